// Starts Swagger UI from a file rather than inline, which the console's Content-Security-Policy forbids.
"use strict";
(function () {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: root.dataset.spec, dom_id: "#swagger-ui" });
})();
