// Switch the map's measure and zoom by swapping one class each: both measures are already drawn.
(function () {
  var frame = document.getElementById("map-frame");
  var map = frame ? frame.querySelector("svg.process-map") : null;
  if (!map) { return; }
  document.querySelectorAll("input[name=measure]").forEach(function (input) {
    input.addEventListener("change", function () {
      map.classList.remove("show-frequency", "show-time");
      map.classList.add("show-" + input.value);
    });
  });
  document.querySelectorAll("input[name=zoom]").forEach(function (input) {
    input.addEventListener("change", function () {
      frame.classList.toggle("fit", input.value === "fit");
    });
  });
})();
