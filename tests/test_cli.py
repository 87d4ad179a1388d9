import json
import re

import pytest

from curbwatch.cli import cli
from curbwatch.reference import config_reference
from tests.conftest import ROOT, run_cli, shared_file


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        yield path
        if hasattr(command, "commands"):
            yield from _commands(command, path)


@pytest.mark.parametrize("path", [(), *_commands(cli)], ids=lambda p: " ".join(p) or "curbwatch")
def test_every_command_has_help(path):
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output and "Show this message and exit" in result.output


def test_schema_prints_json_schema_of_each_message():
    result = run_cli("schema")
    assert result.returncode == 0, result.stderr
    schemas = json.loads(result.stdout)
    assert set(schemas) == {"infraction", "status", "camera-config"}
    infraction = schemas["infraction"]
    assert infraction["additionalProperties"] is False
    assert {"schema", "event_id", "type", "evidence", "redacted", "signature"} <= set(infraction["properties"])


def test_config_reference_doc_matches_the_models():
    doc = (ROOT / "docs" / "config.md").read_text()
    match = re.search(r"<!-- config-reference -->\n(.*?)<!-- /config-reference -->", doc, re.S)
    assert match, "docs/config.md lost its config-reference markers"
    assert match.group(1) == config_reference(), "docs/config.md is stale: run python -m curbwatch.config_doc"


def test_the_smallest_camera_replays_offline_and_is_the_one_readme_shows(model_path):
    example = ROOT / "examples" / "minimal.yaml"
    video = shared_file("media", "jay_intersection_crosswalk.mp4")
    result = run_cli("edge", "replay", str(video), "--config", str(example), "--max-frames", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("3 frames")
    body = "".join(line for line in example.read_text().splitlines(keepends=True) if not line.startswith("#"))
    assert f"```yaml\n{body}```" in (ROOT / "README.md").read_text()


def test_a_missing_model_says_where_the_offline_one_is_and_how_to_choose_it(tmp_path):
    config = tmp_path / "cam.yaml"
    config.write_text((ROOT / "examples" / "minimal.yaml").read_text().replace("yolov8n_int8.tflite", "gone.tflite"))
    result = run_cli(
        "edge", "replay", str(shared_file("media", "jay_intersection_crosswalk.mp4")), "--config", str(config)
    )
    assert result.returncode == 5
    assert "model file not found: ../shared/models/gone.tflite; the offline model is " in result.stderr
    assert "--model ../shared/models/yolov8n_int8.tflite or set detector.model" in result.stderr


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- test-command -->\n```bash\n(.+)\n```\n<!-- /test-command -->", readme)
    assert match, "README.md lost its test-command block"
    assert "test-command" in (ROOT / ".ci" / "run").read_text()


def test_a_central_command_does_not_log_alembics_plugin_setup(tmp_path):
    result = run_cli("central", "migrate", "--db", f"sqlite:///{tmp_path / 'central.db'}")
    assert result.returncode == 0, result.stderr
    assert "alembic.runtime.plugins" not in result.stderr
    assert "Running upgrade" in result.stderr, "the migration steps themselves are still logged"


def test_ctrl_c_in_a_command_is_one_line_and_exit_130_not_aborted():
    import click
    from click.testing import CliRunner

    from common.cli_errors import EXIT_INTERRUPTED, ReportsErrorsGroup

    @click.group(cls=ReportsErrorsGroup)
    def group() -> None:
        pass

    @group.command("wait")
    def wait() -> None:
        raise KeyboardInterrupt  # what Python raises at Ctrl-C in a command without its own SIGINT handling

    result = CliRunner().invoke(group, ["wait"])
    assert result.exit_code == EXIT_INTERRUPTED == 130
    assert result.output == "interrupted (Ctrl-C): stopped\n"


# Run the command line with psycopg unimportable, as on an install without the `postgres` extra (this venv has it).
WITHOUT_PSYCOPG = """
import sys

class NoPsycopg:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "psycopg":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoPsycopg())
from curbwatch.cli import main
sys.argv[0] = "curbwatch"
main()
"""


@pytest.mark.parametrize("url", ["postgresql://cw:secret@127.0.0.1/test", "postgresql+psycopg://cw@127.0.0.1/test"])
@pytest.mark.parametrize(
    "command", [["migrate"], ["list"], ["user", "add", "rita", "--role", "reviewer", "--password-stdin"]]
)
def test_a_postgresql_url_without_psycopg_names_the_extra_in_one_line(url, command):
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_PSYCOPG, "central", *command, "--db", url],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, input="rita-password-1\n", capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 6, result.stderr[-2000:]
    assert result.stderr.splitlines() == [
        "error: a PostgreSQL database needs psycopg (No module named 'psycopg'): pip install 'curbwatch[postgres]'"
    ]
    assert "secret" not in result.stderr
