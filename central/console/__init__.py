"""The reviewer console: server-rendered pages and the /api/v1 JSON API over the same actions."""
