// Keyboard shortcuts: any element with data-key="x" is activated by pressing x (links are followed,
// submit buttons submit their form, so the browser still checks required fields first).
// Keys typed into a field never trigger a shortcut.
(function () {
  "use strict";
  function typing(target) {
    // A ticked checkbox (an evidence layer) keeps the focus but takes no letters.
    if (target && target.tagName === "INPUT" && /^(checkbox|radio)$/.test(target.type)) return false;
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

// Evidence layers: each checkbox with data-layer="zone" (track, item) shows or hides that SVG layer over the clip
// and every keyframe, for as long as the page is open. The boxes stay hidden without this script.
(function () {
  "use strict";
  var evidence = document.getElementById("evidence");
  var layers = document.getElementById("layers");
  if (!evidence || !layers) return;
  function apply(box) {
    evidence.classList.toggle("hide-" + box.dataset.layer, !box.checked);
  }
  var boxes = layers.querySelectorAll("input[data-layer]");
  boxes.forEach(function (box) {
    apply(box);  // the browser may restore a box's state when the page comes back from history
    box.addEventListener("change", function () { apply(box); });
  });
  layers.hidden = boxes.length === 0;
})();

// Deciding an appeal: the form starts with no outcome chosen, and the reason list offers only the reasons that fit
// the chosen outcome (the server refuses any other). Without this script both lists show, each under its label.
(function () {
  "use strict";
  document.querySelectorAll("form.appeal-decision").forEach(function (form) {
    var outcome = form.querySelector("select[name=outcome]");
    var reason = form.querySelector("select[name=reason]");
    function apply() {
      reason.disabled = !outcome.value;
      reason.querySelectorAll("optgroup").forEach(function (group) {
        var fits = group.dataset.outcome === outcome.value;
        group.hidden = !fits;
        group.disabled = !fits;
      });
      var chosen = reason.selectedOptions[0];
      if (!chosen || (chosen.parentElement && chosen.parentElement.disabled)) reason.value = "";
    }
    outcome.addEventListener("change", apply);
    apply();
  });
})();
