// The calibration charts of Settings → Win probability (Chart.js), one per model (deals, leads): mean
// predicted probability against the share actually won or converted, per band, for the model and its
// baseline; a perfect model lies on the diagonal. Each canvas names its json_script element
// (data-calibration): no inline script (CSP).
(function () {
  "use strict";
  if (!window.Chart) return;
  var canvases = document.querySelectorAll("canvas[data-calibration]");
  Array.prototype.forEach.call(canvases, function (canvas) {
    var data = document.getElementById(canvas.getAttribute("data-calibration"));
    if (!data) return;
    var chart = JSON.parse(data.textContent);
    new window.Chart(canvas, {
      type: "scatter",
      data: {
        datasets: [
          { label: "Model", data: chart.model, backgroundColor: "#1f5fd1", borderColor: "#1f5fd1", showLine: true },
          { label: canvas.getAttribute("data-baseline") || "Baseline", data: chart.baseline, backgroundColor: "#9aa9c2", borderColor: "#9aa9c2", showLine: true },
          { label: "Perfect", data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], borderColor: "#ccc", borderDash: [4, 4], showLine: true, pointRadius: 0 }
        ]
      },
      options: {
        maintainAspectRatio: false, animation: false,
        scales: {
          x: { min: 0, max: 1, title: { display: true, text: "Predicted probability" } },
          y: { min: 0, max: 1, title: { display: true, text: "Share won or converted" } }
        }
      }
    });
  });
})();
