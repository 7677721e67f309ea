// The forecast page's "how the forecast moved" line chart (Chart.js); the same numbers are in the table below it.
(function () {
  "use strict";
  var canvas = document.getElementById("movement-chart");
  var data = document.getElementById("movement-data");
  if (!canvas || !data || !window.Chart) return;
  var chart = JSON.parse(data.textContent);
  var colours = ["#1f5fd1", "#d17a1f", "#2e9e5b", "#8a4fd1", "#c23b5a", "#4a8f9e"];
  var datasets = chart.series.map(function (s, i) {
    return {
      label: s.name, borderColor: colours[i % colours.length], backgroundColor: colours[i % colours.length],
      spanGaps: true, data: s.values.map(function (v) { return v === null ? null : Number(v); })
    };
  });
  new window.Chart(canvas, {
    type: "line",
    data: { labels: chart.weeks, datasets: datasets },
    options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } }
  });
})();
