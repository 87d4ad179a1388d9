// Keyboard shortcuts: any element with data-key="x" is activated by pressing x (links are followed,
// submit buttons submit their form, so the browser still checks required fields first).
// Keys typed into a field never trigger a shortcut.
(function () {
  "use strict";
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    var element = document.querySelector('[data-key="' + key + '"]');
    if (!element) return;
    event.preventDefault();
    if (element.tagName === "A") {
      window.location.assign(element.href);
    } else if (element.form) {
      element.form.requestSubmit(element);
    } else {
      element.focus();
    }
  });
})();
