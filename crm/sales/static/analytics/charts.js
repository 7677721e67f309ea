// The sales dashboard's charts (Chart.js). The same numbers are in the tables below them; a click on
// a bar opens the deals behind it. Data comes from json_script elements: no inline script (CSP).
(function () {
  "use strict";
  var data = document.getElementById("analytics-data");
  if (!data || !window.Chart) return;
  var chart = JSON.parse(data.textContent);
  var colours = ["#1f5fd1", "#9aa9c2"];
  var counts = document.getElementById("counts-chart");
  if (counts) {
    new window.Chart(counts, {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: chart.series.map(function (s, i) {
          return { label: s.name, backgroundColor: colours[i % colours.length], data: s.values };
        })
      },
      options: {
        maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } },
        onClick: function (event, elements) {
          if (!elements.length) return;
          var e = elements[0];
          window.location.href = chart.series[e.datasetIndex].links[e.index];
        }
      }
    });
  }
  var stages = document.getElementById("stages-chart");
  if (stages && chart.stages.labels.length) {
    new window.Chart(stages, {
      type: "bar",
      data: {
        labels: chart.stages.labels,
        datasets: [{ label: "Went on to a later stage (%)", backgroundColor: colours[0],
          data: chart.stages.values.map(Number) }]
      },
      options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, max: 100 } } }
    });
  }
  // The period (or month) beside the previous one; a click opens the deals or activities behind it.
  function compared(id, part, type, names) {
    var canvas = document.getElementById(id);
    if (!canvas || !part || !part.labels.length) return;
    new window.Chart(canvas, {
      type: type,
      data: {
        labels: part.labels,
        datasets: [
          { label: names[0], backgroundColor: colours[0], borderColor: colours[0], data: part.values.map(Number) },
          { label: names[1], backgroundColor: colours[1], borderColor: colours[1], data: part.previous.map(Number) }
        ]
      },
      options: {
        maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } },
        onClick: function (event, elements) {
          if (!elements.length || elements[0].datasetIndex !== 0) return;
          var link = part.links[elements[0].index];
          if (link) window.location.href = link;
        }
      }
    });
  }
  var names = [chart.series[0].name, chart.series[1].name];
  compared("categories-chart", chart.categories, "bar", names);
  compared("activities-chart", chart.activities, "bar", names);
  compared("trend-chart", chart.trend, "line", ["Won", "A year earlier"]);
})();
