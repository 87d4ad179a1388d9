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

// Keyframes open large: a click shows the keyframe with what is drawn over it in a dialog, as large as the
// window allows (Esc, Close or a click beside it closes it). Without this script the link opens the image alone.
(function () {
  "use strict";
  var dialog = document.getElementById("large-frame");
  if (!dialog || !dialog.showModal) return;
  var holder = dialog.querySelector(".large-holder");
  document.querySelectorAll("a.open-large").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      var frame = document.createElement("div");
      frame.className = "frame";
      link.childNodes.forEach(function (node) { frame.appendChild(node.cloneNode(true)); });
      holder.replaceChildren(frame);
      var image = frame.querySelector("img");
      function fit() {
        var width = image.naturalWidth || 16, height = image.naturalHeight || 9;
        var scale = Math.min(window.innerWidth * 0.92 / width, window.innerHeight * 0.8 / height);
        frame.style.width = Math.round(width * scale) + "px";
      }
      fit();
      image.addEventListener("load", fit);
      dialog.showModal();
    });
  });
  dialog.addEventListener("click", function (event) {
    if (event.target === dialog) dialog.close();
  });
})();
