// The calibration chart of Settings → Win probability (Chart.js): mean predicted probability against
// the share actually won, per band, for the model and the stage probability; a perfect model lies on
// the diagonal. Data comes from a json_script element: no inline script (CSP).
(function () {
  "use strict";
  var data = document.getElementById("calibration-data");
  var canvas = document.getElementById("calibration-chart");
  if (!data || !canvas || !window.Chart) return;
  var chart = JSON.parse(data.textContent);
  new window.Chart(canvas, {
    type: "scatter",
    data: {
      datasets: [
        { label: "Model", data: chart.model, backgroundColor: "#1f5fd1", borderColor: "#1f5fd1", showLine: true },
        { label: "Stage probability", data: chart.baseline, backgroundColor: "#9aa9c2", borderColor: "#9aa9c2", showLine: true },
        { label: "Perfect", data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], borderColor: "#ccc", borderDash: [4, 4], showLine: true, pointRadius: 0 }
      ]
    },
    options: {
      maintainAspectRatio: false, animation: false,
      scales: {
        x: { min: 0, max: 1, title: { display: true, text: "Predicted probability" } },
        y: { min: 0, max: 1, title: { display: true, text: "Share won" } }
      }
    }
  });
})();
