// The zone editor: draw and edit zone polygons over a redacted frame, save the camera file, run a test replay.
// Points are kept normalised to the frame (0..1), as camera files hold them; the SVG's viewBox is the frame's
// pixel size, so what is drawn lines up with the picture at any display size.
(function () {
  "use strict";
  var root = document.getElementById("zone-editor");
  if (!root) return;
  var SVG = "http://www.w3.org/2000/svg";
  var RULES = root.dataset.rules.split(" "); // the server's rule catalogue (models/rule_catalogue.py)
  function $(id) { return document.getElementById(id); }
  var svg = $("zone-canvas");
  var img = $("zone-frame");
  var csrf = root.dataset.csrf;

  var state = {
    doc: freshDoc(), // the camera file; sections the editor does not show ride along unchanged
    loaded: null, // the file name the draft came from
    size: null, // [width, height] of the frame shown
    drawing: null, // points of the polygon being drawn
    selected: -1,
    point: -1,
    drag: null,
    dragEnded: -1e9, // when the last drag ended: the click that ends a drag adds no point
    result: null, // the last finished test replay
    badZones: {},
    dirty: false,
  };

  function freshDoc() {
    return { camera: {}, source: {}, zones: [] };
  }
  function zones() {
    if (!Array.isArray(state.doc.zones)) state.doc.zones = [];
    return state.doc.zones;
  }

  // ---- talking to the server ----------------------------------------------------------------------------
  function answer(response) {
    var type = response.headers.get("content-type") || "";
    var body = type.indexOf("application/json") === 0 ? response.json() : Promise.resolve({});
    return body.then(function (data) {
      if (!data.detail && !data.problems && !response.ok) data.detail = "the server answered HTTP " + response.status;
      return { ok: response.ok, status: response.status, body: data };
    });
  }
  function getJson(url) {
    return fetch(url, { credentials: "same-origin" }).then(answer);
  }
  function postJson(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(payload),
    }).then(answer);
  }

  // ---- drawing ----------------------------------------------------------------------------------------
  function node(name, attrs, parent) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) { element.setAttribute(key, attrs[key]); });
    parent.appendChild(element);
    return element;
  }
  function clear(element) {
    while (element.firstChild) element.removeChild(element.firstChild);
  }
  function px(point) {
    return [point[0] * state.size[0], point[1] * state.size[1]];
  }
  function pointList(points) {
    return points.map(function (p) { var q = px(p); return q[0].toFixed(1) + "," + q[1].toFixed(1); }).join(" ");
  }
  function unit() {
    // One screen pixel in frame pixels: handles and labels keep their size however the frame is scaled.
    return state.size[0] / Math.max(1, svg.getBoundingClientRect().width);
  }
  function label(text, at, cls, parent) {
    var u = unit();
    var element = node("text", { x: at[0] + 7 * u, y: at[1] - 7 * u, "class": cls, "font-size": 13 * u }, parent);
    element.textContent = text;
  }

  function render() {
    if (!state.size) return;
    var u = unit();
    var zoneLayer = $("zones-layer"), handleLayer = $("handles-layer"), draftLayer = $("draft-layer");
    [zoneLayer, handleLayer, draftLayer, $("tracks-layer")].forEach(clear);
    zones().forEach(function (zone, index) {
      if (!Array.isArray(zone.polygon) || !zone.polygon.length) return;
      var selected = index === state.selected;
      node("polygon", {
        points: pointList(zone.polygon),
        "class": "zone kind-" + zone.kind + (selected ? " selected" : ""),
        "data-zone": index,
        "data-name": zone.name,
        "stroke-width": (selected ? 3 : 2) * u,
      }, zoneLayer);
      label(zone.name, px(zone.polygon[0]), "zone-label kind-" + zone.kind, zoneLayer);
      zone.polygon.forEach(function (point, p) {
        var at = px(point);
        node("circle", {
          cx: at[0], cy: at[1], r: (selected ? 6 : 4.5) * u, "stroke-width": 1.5 * u,
          "class": "handle" + (selected && p === state.point ? " current" : ""), "data-zone": index, "data-point": p,
        }, handleLayer);
        if (!selected) return;
        var next = px(zone.polygon[(p + 1) % zone.polygon.length]);
        node("circle", {
          cx: (at[0] + next[0]) / 2, cy: (at[1] + next[1]) / 2, r: 3.5 * u, "stroke-width": u,
          "class": "mid", "data-zone": index, "data-after": p,
        }, handleLayer);
      });
    });
    if (state.drawing) {
      node("polyline", { points: pointList(state.drawing), "class": "drawing", "stroke-width": 2 * u }, draftLayer);
      state.drawing.forEach(function (point, p) {
        var at = px(point);
        node("circle", { cx: at[0], cy: at[1], r: (p ? 4 : 6) * u, "class": p ? "draft" : "draft start" }, draftLayer);
      });
    }
    renderTracks(u);
  }

  function renderTracks(u) {
    var job = state.result;
    var layer = $("tracks-layer");
    if (!job || job.source !== $("source").value) return;
    job.tracks.forEach(function (track) {
      var cls = "track" + (track.cls === "person" ? " person" : " other");
      if (track.points.length > 1) {
        node("polyline", { points: pointList(track.points), "class": cls, "stroke-width": 2 * u }, layer);
      }
      node("circle", { cx: px(track.points[0])[0], cy: px(track.points[0])[1], r: 2.5 * u, "class": cls }, layer);
    });
    // Markers carry the event's number in the list under the frame: full labels would overlap.
    job.events.forEach(function (event, index) {
      if (!event.at) return;
      var at = px(event.at);
      node("circle", { cx: at[0], cy: at[1], r: 9 * u, "stroke-width": 3 * u, "class": "event" }, layer);
      label(String(index + 1), at, "event-label", layer);
    });
  }

  // ---- the zone list ----------------------------------------------------------------------------------
  function renderList() {
    var body = $("zone-list").querySelector("tbody");
    clear(body);
    var kinds = Array.prototype.map.call($("new-kind").options, function (option) { return option.value; });
    zones().forEach(function (zone, index) {
      var row = document.createElement("tr");
      row.dataset.zone = index;
      if (index === state.selected) row.className = "selected";
      if (state.badZones[index]) row.className += " has-problem";
      var name = document.createElement("input");
      name.className = "zone-name";
      name.value = zone.name || "";
      name.maxLength = 64;
      name.setAttribute("aria-label", "Zone name");
      name.addEventListener("input", function () { zone.name = name.value.trim(); changed(); render(); });
      var kind = document.createElement("select");
      kind.className = "zone-kind";
      kind.setAttribute("aria-label", "Zone kind");
      kinds.concat(kinds.indexOf(zone.kind) < 0 ? [zone.kind] : []).forEach(function (value) {
        var option = document.createElement("option");
        option.textContent = value;
        kind.appendChild(option);
      });
      kind.value = zone.kind;
      kind.addEventListener("change", function () { zone.kind = kind.value; changed(); render(); });
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "small reject";
      remove.textContent = "Delete";
      remove.addEventListener("click", function (event) {
        event.stopPropagation(); // the row would select the zone just removed
        zones().splice(index, 1);
        select(-1, -1);
        changed();
      });
      var count = document.createElement("td");
      count.className = "num";
      count.textContent = Array.isArray(zone.polygon) ? zone.polygon.length : 0;
      [name, kind].forEach(function (control) {
        var cell = document.createElement("td");
        cell.appendChild(control);
        row.appendChild(cell);
      });
      row.appendChild(count);
      var last = document.createElement("td");
      last.appendChild(remove);
      row.appendChild(last);
      row.addEventListener("focusin", function () { if (state.selected !== index) select(index, -1, true); });
      row.addEventListener("click", function () { if (state.selected !== index) select(index, -1, true); });
      body.appendChild(row);
    });
    $("no-zones").hidden = zones().length > 0;
    $("zone-list").hidden = zones().length === 0;
  }

  function select(zone, point, keepList) {
    state.selected = zone;
    state.point = point;
    if (keepList) {
      Array.prototype.forEach.call($("zone-list").querySelectorAll("tbody tr"), function (row) {
        row.classList.toggle("selected", +row.dataset.zone === zone);
      });
    } else {
      renderList();
    }
    buttons();
    render();
  }

  function buttons() {
    $("close-zone").disabled = !state.drawing || state.drawing.length < 3;
    $("cancel-zone").disabled = !state.drawing;
    $("delete-point").disabled = state.selected < 0 || state.point < 0;
  }

  function changed() {
    state.dirty = true;
    buttons();
  }

  function uniqueName(kind) {
    var names = zones().map(function (zone) { return zone.name; });
    for (var n = 1; ; n += 1) {
      if (names.indexOf(kind + "-" + n) < 0) return kind + "-" + n;
    }
  }

  function closePolygon() {
    if (!state.drawing) return;
    if (state.drawing.length < 3) {
      frameStatus("A zone needs at least 3 points.", false);
      return;
    }
    var kind = $("new-kind").value;
    zones().push({ name: uniqueName(kind), kind: kind, polygon: state.drawing });
    state.drawing = null;
    changed();
    select(zones().length - 1, -1);
    var input = $("zone-list").querySelectorAll("input.zone-name")[state.selected];
    input.focus();
    input.select();
  }

  function cancelPolygon() {
    state.drawing = null;
    buttons();
    render();
  }

  function deletePoint() {
    if (state.selected < 0 || state.point < 0) return;
    var polygon = zones()[state.selected].polygon;
    if (polygon.length <= 3) {
      frameStatus("A zone needs at least 3 points: delete the zone instead.", false);
      return;
    }
    polygon.splice(state.point, 1);
    changed();
    select(state.selected, -1);
  }

  // ---- mouse and keyboard on the frame ------------------------------------------------------------------
  function clamp(value) {
    return Math.min(1, Math.max(0, Math.round(value * 10000) / 10000));
  }
  function where(event) {
    var box = svg.getBoundingClientRect();
    return [clamp((event.clientX - box.left) / box.width), clamp((event.clientY - box.top) / box.height)];
  }
  function isHandle(target) {
    return target.classList && (target.classList.contains("handle") || target.classList.contains("mid"));
  }

  svg.addEventListener("pointerdown", function (event) {
    var target = event.target;
    if (event.button !== 0 || state.drawing || !isHandle(target)) return;
    var zone = +target.dataset.zone;
    var point;
    if (target.classList.contains("mid")) {
      point = +target.dataset.after + 1;
      zones()[zone].polygon.splice(point, 0, where(event));
      changed();
    } else {
      point = +target.dataset.point;
    }
    state.drag = { zone: zone, point: point };
    svg.setPointerCapture(event.pointerId);
    event.preventDefault();
    select(zone, point);
  });
  svg.addEventListener("pointermove", function (event) {
    if (!state.drag) return;
    zones()[state.drag.zone].polygon[state.drag.point] = where(event);
    state.dirty = true;
    render();
  });
  function endDrag() {
    if (!state.drag) return;
    state.drag = null;
    state.dragEnded = performance.now();
    renderList();
    render();
  }
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);

  svg.addEventListener("click", function (event) {
    if (performance.now() - state.dragEnded < 400) return;
    // The second click of a double-click closes the polygon (dblclick below) instead of adding a point.
    if (!state.size || event.detail > 1) return;
    var target = event.target;
    if (state.drawing && target.classList.contains("start") && state.drawing.length >= 3) {
      closePolygon();
      return;
    }
    var point = where(event);
    if (target.classList.contains("handle")) {
      // Snap to an existing point, so neighbouring zones can share an edge exactly.
      point = zones()[+target.dataset.zone].polygon[+target.dataset.point].slice();
    }
    if (!state.drawing) {
      state.drawing = [];
      select(-1, -1);
    }
    state.drawing.push(point);
    buttons();
    render();
  });
  svg.addEventListener("dblclick", function (event) {
    event.preventDefault();
    if (state.drawing && state.drawing.length >= 3) closePolygon();
  });

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "Enter" && state.drawing) {
      event.preventDefault();
      closePolygon();
    } else if (event.key === "Escape" && state.drawing) {
      cancelPolygon();
    } else if ((event.key === "Delete" || event.key === "Backspace") && state.point >= 0) {
      event.preventDefault();
      deletePoint();
    }
  });
  $("close-zone").addEventListener("click", closePolygon);
  $("cancel-zone").addEventListener("click", cancelPolygon);
  $("delete-point").addEventListener("click", deletePoint);
  window.addEventListener("resize", render);
  window.addEventListener("beforeunload", function (event) {
    if (state.dirty) event.preventDefault();
  });

  // ---- the frame --------------------------------------------------------------------------------------
  function frameStatus(text, isError) {
    var status = $("frame-status");
    status.textContent = text;
    status.className = isError ? "error" : "hint";
  }
  function loadFrame(key) {
    if (!key) return;
    frameStatus("Reading the first frame and pixelating the people in it…", false);
    fetch("/admin/zones/frame?source=" + encodeURIComponent(key), { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) {
        return answer(response).then(function (result) {
          frameStatus(result.body.detail || "the frame could not be shown", true);
          if (result.status === 409) {
            setTimeout(function () { if ($("source").value === key) loadFrame(key); }, 2000);
          }
        });
      }
      return response.blob().then(function (blob) {
        // A data: URL, because the console's content policy allows no blob: images.
        var reader = new FileReader();
        reader.onload = function () { if ($("source").value === key) img.src = reader.result; };
        reader.readAsDataURL(blob);
      });
    }).catch(function () { frameStatus("The server could not be reached.", true); });
  }
  img.addEventListener("load", function () {
    state.size = [img.naturalWidth, img.naturalHeight];
    svg.setAttribute("viewBox", "0 0 " + state.size[0] + " " + state.size[1]);
    $("stage").hidden = false;
    frameStatus("First frame, " + state.size[0] + "×" + state.size[1] + ", every person the detector found pixelated. Click on it to draw a zone.", false);
    render();
  });
  $("source").addEventListener("change", function () {
    var key = $("source").value;
    state.dirty = true;
    sourceHint();
    if (key) loadFrame(key);
  });
  function sourceHint() {
    var select = $("source");
    var uri = state.doc.source && state.doc.source.uri;
    var hint = $("source-uri");
    if (select.value) {
      hint.textContent = "Source: " + select.options[select.selectedIndex].text;
    } else if (uri) {
      hint.textContent = "This file's source (" + uri + ") is not one the server knows; it is kept unless you pick another to see a frame.";
    } else {
      hint.textContent = "Source: pick one above.";
    }
  }

  // ---- camera files -----------------------------------------------------------------------------------
  function fillForm() {
    var camera = state.doc.camera || {};
    var rules = state.doc.rules || {};
    $("file-name").value = state.loaded || "";
    $("camera-id").value = camera.id || "";
    $("camera-site").value = camera.site || "";
    $("camera-name").value = camera.name || "";
    RULES.forEach(function (rule) {
      // A file that does not say runs the rule as its config's default does, which the page's switch starts at.
      var box = $("rule-" + rule), said = rules[rule] && rules[rule].enabled;
      box.checked = typeof said === "boolean" ? said : box.defaultChecked;
    });
    state.drawing = null;
    state.badZones = {};
    select(-1, -1);
    sourceHint();
  }
  function loadCamera(name) {
    getJson("/admin/zones/cameras/" + encodeURIComponent(name)).then(function (result) {
      if (!result.ok) {
        showProblems(result.body.problems || [result.body.detail]);
        return;
      }
      state.doc = result.body.config;
      state.loaded = result.body.file;
      state.dirty = false;
      $("camera-files").value = name;
      $("source").value = result.body.source || "";
      history.replaceState(null, "", "/admin/zones?camera=" + encodeURIComponent(name));
      fillForm();
      showProblems(result.body.problems, "This file does not validate yet:");
      saveStatus("", false);
      if (result.body.source) loadFrame(result.body.source);
    });
  }
  function newCamera() {
    state.doc = freshDoc();
    state.loaded = null;
    state.dirty = false;
    history.replaceState(null, "", "/admin/zones");
    fillForm();
    showProblems([]);
  }
  $("load-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (state.dirty && !window.confirm("Discard the changes to this draft?")) return;
    var name = $("camera-files").value;
    if (name) loadCamera(name);
    else newCamera();
  });

  function collect() {
    var doc = JSON.parse(JSON.stringify(state.doc));
    doc.camera = Object.assign({}, doc.camera, { id: $("camera-id").value.trim(), site: $("camera-site").value.trim() });
    var name = $("camera-name").value.trim();
    if (name) doc.camera.name = name;
    else delete doc.camera.name;
    if (!doc.rules || typeof doc.rules !== "object") doc.rules = {};
    RULES.forEach(function (rule) {
      doc.rules[rule] = Object.assign({}, doc.rules[rule], { enabled: $("rule-" + rule).checked });
    });
    return doc;
  }

  function showProblems(problems, heading) {
    var list = $("problems");
    clear(list);
    state.badZones = {};
    (problems || []).forEach(function (problem) {
      var item = document.createElement("li");
      item.textContent = problem;
      list.appendChild(item);
      var zone = /^zones\[(\d+)\]/.exec(problem);
      if (zone) state.badZones[+zone[1]] = true;
    });
    if (problems && problems.length && heading) {
      var head = document.createElement("li");
      head.className = "heading";
      head.textContent = heading;
      list.insertBefore(head, list.firstChild);
    }
    renderList();
  }
  function saveStatus(text, good, notes) {
    var status = $("save-status");
    clear(status);
    if (!text) return;
    var line = document.createElement("p");
    line.className = good ? "notice" : "error";
    line.textContent = text;
    status.appendChild(line);
    (notes || []).forEach(function (note) {
      var warning = document.createElement("p");
      warning.className = "hint warning";
      warning.textContent = "Note: " + note;
      status.appendChild(warning);
    });
  }

  $("camera-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var file = $("file-name").value.trim() || $("camera-id").value.trim();
    $("file-name").value = file;
    postJson("/admin/zones/save", {
      file: file,
      loaded: state.loaded,
      source: $("source").value || null,
      config: collect(),
    }).then(function (result) {
      if (!result.ok) {
        showProblems(result.body.problems || [result.body.detail]);
        saveStatus("Not saved: fix the problems listed below.", false);
        return;
      }
      showProblems([]);
      state.loaded = result.body.file;
      state.doc = collect();
      state.dirty = false;
      var files = $("camera-files");
      if (!files.querySelector('option[value="' + result.body.file + '"]')) {
        var option = document.createElement("option");
        option.value = result.body.file;
        option.textContent = result.body.file + ".yaml";
        files.appendChild(option);
      }
      files.value = result.body.file;
      history.replaceState(null, "", "/admin/zones?camera=" + encodeURIComponent(result.body.file));
      saveStatus("Saved " + result.body.path + ".", true, result.body.warnings);
    });
  });

  // ---- test replay ------------------------------------------------------------------------------------
  function testStatus(text, isError) {
    var status = $("test-status");
    status.textContent = text;
    status.className = isError ? "error" : "hint";
  }
  function showEvents(events) {
    var table = $("test-events");
    var body = table.querySelector("tbody");
    clear(body);
    events.forEach(function (event, number) {
      var row = document.createElement("tr");
      var frames = event.frames[0] + "–" + event.frames[1];
      [number + 1, event.type, event.zone, "track " + event.track_id, frames, event.confidence].forEach(
        function (value, index) {
          var cell = document.createElement("td");
          cell.textContent = value;
          if (index === 0 || index > 3) cell.className = "num";
          row.appendChild(cell);
        }
      );
      body.appendChild(row);
    });
    table.hidden = events.length === 0;
  }
  function showJob(job) {
    $("run-test").disabled = job.state === "running";
    if (job.state === "running") {
      testStatus("Testing the first " + job.seconds + " s of " + job.source_label + ": frame " + job.frames_done +
        (job.total_frames ? " of " + job.total_frames : "") + "…", false);
    } else if (job.state === "done") {
      state.result = job;
      testStatus("Test of " + job.source_label + " (" + job.camera_id + "): " + job.summary + "; " + job.tracks.length +
        " tracks drawn as foot paths" + (job.source === $("source").value ? "" : " (pick that source to see them)") + ".", false);
      showEvents(job.events);
      render();
    } else if (job.state === "failed") {
      testStatus("The test replay failed: " + job.error, true);
    }
  }
  function poll() {
    setTimeout(function () {
      getJson("/admin/zones/test").then(function (result) {
        if (!result.ok) {
          testStatus(result.body.detail, true);
          return;
        }
        showJob(result.body);
        if (result.body.state === "running") poll();
      });
    }, 1000);
  }
  $("test-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var key = $("source").value;
    if (!key) {
      testStatus("Pick a source first.", true);
      return;
    }
    postJson("/admin/zones/test", { source: key, seconds: +$("test-seconds").value, config: collect() }).then(function (result) {
      if (result.status === 202) {
        showProblems([]);
        showJob(result.body);
        poll();
      } else if (result.body.problems) {
        showProblems(result.body.problems);
        testStatus("The draft cannot be tested: fix the problems listed beside the form.", true);
      } else {
        testStatus(result.body.detail, true);
      }
    });
  });

  // ---- start ------------------------------------------------------------------------------------------
  var wanted = new URLSearchParams(window.location.search).get("camera");
  if (wanted) loadCamera(wanted);
  else fillForm();
  getJson("/admin/zones/test").then(function (result) {
    if (result.ok && result.body.state === "running") {
      showJob(result.body);
      poll();
    }
  });
})();
