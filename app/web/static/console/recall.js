// A recall case: effectiveness over time (ECharts step line per unit) and deadlines counting down each minute.
(function () {
  "use strict";
  function text(seconds, lang) {
    var s = Math.abs(seconds), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (lang === "en") { return d ? d + " d " + h + " h" : h + " h " + m + " min"; }
    return d ? d + "天" + h + "小时" : h + "小时" + m + "分";
  }
  function tick() {
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("data-deadline")) - Date.now()) / 1000);
      el.textContent = (left < 0 ? el.getAttribute("data-overdue") : el.getAttribute("data-left")) + " " +
        text(left, el.getAttribute("data-lang"));
    });
  }
  tick();
  window.setInterval(tick, 60000);
  var block = document.getElementById("effect-data");
  var el = document.getElementById("chart-effect");
  if (!block || !el || typeof echarts === "undefined") { return; }
  var data = JSON.parse(block.textContent);
  var chart = echarts.init(el, null, { renderer: "svg" });
  var units = Object.keys(data.units);
  chart.setOption({
    animation: false,
    grid: { left: 48, right: 24, top: 40, bottom: 30 },
    legend: { top: 0, data: units.map(function (u) { return data.labels.recovered + " (" + u + ")"; }) },
    tooltip: { trigger: "axis" },
    xAxis: { type: "time" },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: units.map(function (u) {
      return { type: "line", step: "end", name: data.labels.recovered + " (" + u + ")", data: data.units[u] };
    })
  });
  el.setAttribute("data-ready", "1");
  window.addEventListener("resize", function () { chart.resize(); });
}());
