// The home page's small pipeline chart (Chart.js); the same numbers are in a table for screen readers.
(function () {
  "use strict";
  var canvas = document.getElementById("pipeline-chart");
  var data = document.getElementById("pipeline-data");
  if (!canvas || !data || !window.Chart) return;
  var rows = JSON.parse(data.textContent);
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map(function (r) { return r.stage; }),
      datasets: [{ label: "Open amount", data: rows.map(function (r) { return r.total; }), backgroundColor: "#1f5fd1", borderRadius: 4 }]
    },
    options: {
      indexAxis: "y", maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: function (ctx) { return rows[ctx.dataIndex].count + " deal(s)"; } } } },
      scales: { x: { beginAtZero: true, ticks: { maxTicksLimit: 4 } } }
    }
  });
})();
