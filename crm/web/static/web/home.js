// The home page's small pipeline chart (Chart.js); the same numbers are in a table for screen readers.
(function () {
  "use strict";
  var canvas = document.getElementById("pipeline-chart");
  var data = document.getElementById("pipeline-data");
  if (!canvas || !data || !window.Chart) return;
  var chart = JSON.parse(data.textContent);
  var rows = chart.rows;
  var colours = ["#1f5fd1", "#d17a1f", "#2e9e5b", "#8a4fd1"];
  // One bar per currency: amounts in different currencies are never added together.
  var datasets = chart.currencies.map(function (currency, i) {
    return {
      label: currency, backgroundColor: colours[i % colours.length], borderRadius: 4,
      data: rows.map(function (r) { return r.totals[currency] || 0; })
    };
  });
  new window.Chart(canvas, {
    type: "bar",
    data: { labels: rows.map(function (r) { return r.stage; }), datasets: datasets },
    options: {
      indexAxis: "y", maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: datasets.length > 1 }, tooltip: { callbacks: { afterLabel: function (ctx) { return rows[ctx.dataIndex].count + " deal(s)"; } } } },
      scales: { x: { beginAtZero: true, ticks: { maxTicksLimit: 4 } } }
    }
  });
})();
