// Draws the weekly report's charts with Chart.js from the JSON the server
// embedded in the page (#report-data). No data is fetched.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const report = data.report;
  Chart.defaults.font.family = "system-ui, sans-serif";
  new Chart(document.getElementById("events-by-day"), {
    type: "bar",
    data: {
      labels: report.days.map((d) => d.date),
      datasets: data.kinds.map((k) => ({
        label: k.label,
        data: report.days.map((d) => d.counts[k.key] || 0),
        backgroundColor: k.color,
      })),
    },
    options: {
      animation: false,
      responsive: false,
      plugins: {
        // Only the kinds that happened this week get a legend entry.
        legend: { labels: { filter: (item, chart) => chart.datasets[item.datasetIndex].data.some((v) => v > 0) } },
      },
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "events" } },
      },
    },
  });
  new Chart(document.getElementById("score-trend"), {
    type: "line",
    data: {
      labels: report.trend.map((t) => t.period),
      datasets: [{
        label: "Safe-driving score",
        data: report.trend.map((t) => Math.round(t.score * 10) / 10),
        borderColor: data.trend_color,
        backgroundColor: data.trend_color,
        borderWidth: 3,
      }],
    },
    options: { animation: false, responsive: false, scales: { y: { min: 0, max: 100 } } },
  });
  document.body.dataset.chartsReady = "true";
})();
