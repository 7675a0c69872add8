// The map's viewer, hand-written so the page needs nothing from outside: detail sliders that swap
// in a map drawn for that level, the measure switch (one class on the SVG), pan and zoom.
(function () {
  var frame = document.getElementById("map-frame");
  var canvas = document.getElementById("map-canvas");
  var positionsNode = document.getElementById("map-levels");
  if (!frame || !canvas || !positionsNode) { return; }
  var positions = JSON.parse(positionsNode.textContent);
  var activities = document.getElementById("detail-activities");
  var paths = document.getElementById("detail-paths");
  var pathSteps = Number(paths.max) + 1;
  // 12px names drawn at 0.75 read at 9px: the fit never goes below it; the wheel may, on purpose.
  var READABLE = 0.75, MIN = 0.05, MAX = 4;
  var view = { scale: 1, x: 0, y: 0 };

  function svg() { return canvas.querySelector("svg.process-map"); }
  function size() {
    var s = svg();
    return s ? { w: Number(s.getAttribute("width")), h: Number(s.getAttribute("height")) } : { w: 1, h: 1 };
  }
  function apply() {
    canvas.style.transform = "translate(" + view.x + "px," + view.y + "px) scale(" + view.scale + ")";
    frame.dataset.scale = view.scale.toFixed(3);
  }
  function clampPan() {
    var m = size(), fw = frame.clientWidth, fh = frame.clientHeight;
    var w = m.w * view.scale, h = m.h * view.scale;
    // Keep some of the map in view; centre it when it is smaller than the frame.
    view.x = w <= fw ? (fw - w) / 2 : Math.min(0, Math.max(fw - w, view.x));
    view.y = h <= fh ? (fh - h) / 2 : Math.min(0, Math.max(fh - h, view.y));
  }
  function fit() {
    var m = size();
    var tallest = Math.max(window.innerHeight * 0.82, 320);
    var scale = Math.min(1, (frame.clientWidth - 8) / m.w, tallest / m.h);
    view.scale = Math.max(scale, READABLE);
    frame.style.height = Math.min(tallest, m.h * view.scale + 8) + "px";
    view.x = 0; view.y = 0;  // too big even at a legible size: start where the process starts
    clampPan(); apply();
  }
  function zoomAt(factor, cx, cy) {
    var next = Math.min(MAX, Math.max(MIN, view.scale * factor));
    var k = next / view.scale;
    view.x = cx - (cx - view.x) * k;
    view.y = cy - (cy - view.y) * k;
    view.scale = next;
    clampPan(); apply();
  }
  function zoomCentre(factor) { zoomAt(factor, frame.clientWidth / 2, frame.clientHeight / 2); }

  function measureClasses(target) {
    var measure = document.querySelector("input[name=measure]:checked").value;
    var stat = document.querySelector("input[name=time-stat]:checked").value;
    target.classList.remove("show-frequency", "show-time", "time-total", "time-mean", "time-median");
    target.classList.add("show-" + measure, "time-" + stat);
    document.querySelector("fieldset.stat").disabled = measure !== "time";
  }
  function showLevel() {
    var position = positions[Number(activities.value) * pathSteps + Number(paths.value)];
    var template = document.getElementById("map-level-" + position.key);
    canvas.replaceChildren(template.content.cloneNode(true));
    document.getElementById("detail-activities-value").textContent =
      position.activities.toLocaleString("en") + " of " + activities.dataset.total;
    document.getElementById("detail-paths-value").textContent =
      position.paths.toLocaleString("en") + " of " + paths.dataset.total;
    frame.dataset.level = position.key;
    measureClasses(svg());
    fit();
  }

  activities.addEventListener("input", showLevel);
  paths.addEventListener("input", showLevel);
  document.querySelectorAll("input[name=measure], input[name=time-stat]").forEach(function (input) {
    input.addEventListener("change", function () { measureClasses(svg()); });
  });
  document.getElementById("zoom-in").addEventListener("click", function () { zoomCentre(1.25); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoomCentre(0.8); });
  document.getElementById("zoom-fit").addEventListener("click", fit);
  document.getElementById("zoom-actual").addEventListener("click", function () {
    view.scale = 1; clampPan(); apply();
  });

  frame.addEventListener("wheel", function (event) {
    event.preventDefault();
    var box = frame.getBoundingClientRect();
    zoomAt(Math.exp(-event.deltaY * 0.0015), event.clientX - box.left, event.clientY - box.top);
  }, { passive: false });
  var drag = null;
  frame.addEventListener("pointerdown", function (event) {
    if (event.button !== 0 || event.target.closest("button")) { return; }
    drag = { x: event.clientX - view.x, y: event.clientY - view.y };
    frame.setPointerCapture(event.pointerId);
    frame.classList.add("dragging");
  });
  frame.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    view.x = event.clientX - drag.x; view.y = event.clientY - drag.y;
    clampPan(); apply();
  });
  function endDrag() { drag = null; frame.classList.remove("dragging"); }
  frame.addEventListener("pointerup", endDrag);
  frame.addEventListener("pointercancel", endDrag);
  frame.addEventListener("keydown", function (event) {
    var step = 60, handled = true;
    switch (event.key) {
      case "+": case "=": zoomCentre(1.25); break;
      case "-": case "_": zoomCentre(0.8); break;
      case "0": fit(); break;
      case "1": view.scale = 1; clampPan(); apply(); break;
      case "ArrowLeft": view.x += step; clampPan(); apply(); break;
      case "ArrowRight": view.x -= step; clampPan(); apply(); break;
      case "ArrowUp": view.y += step; clampPan(); apply(); break;
      case "ArrowDown": view.y -= step; clampPan(); apply(); break;
      default: handled = false;
    }
    if (handled) { event.preventDefault(); }
  });
  window.addEventListener("resize", fit);

  // Hovering a path or its label lights up both, so a label always points at its path.
  function hot(event, on) {
    var item = event.target.closest("g.edge, text.edge-label");
    if (!item) { return; }
    var source = item.dataset.source, target = item.dataset.target, map = svg();
    map.querySelectorAll("g.edge, text.edge-label").forEach(function (element) {
      if (element.dataset.source === source && element.dataset.target === target) {
        element.classList.toggle("hot", on);
      }
    });
  }
  canvas.addEventListener("mouseover", function (event) { hot(event, true); });
  canvas.addEventListener("mouseout", function (event) { hot(event, false); });

  // Open at the richest level that fits this screen at a legible zoom without a tangle of paths;
  // the page was written for a 1400px screen, so a wider one shows more at first, a narrower one less.
  function richestFitting() {
    // None fits: the smallest, seen from where the process starts.
    var width = frame.clientWidth - 8, height = Math.max(window.innerHeight * 0.82, 320), best = 0;
    positions.forEach(function (position, i) {
      if (position.fewPaths && position.width * READABLE <= width && position.height * READABLE <= height) {
        best = i;
      }
    });
    return best;
  }

  frame.classList.add("interactive");
  var opening = richestFitting();
  if (opening !== Number(activities.value) * pathSteps + Number(paths.value)) {
    activities.value = String(Math.floor(opening / pathSteps));
    paths.value = String(opening % pathSteps);
    showLevel();
  } else {
    measureClasses(svg());
    frame.dataset.level = positions[Number(activities.value) * pathSteps + Number(paths.value)].key;
    fit();
  }
})();
