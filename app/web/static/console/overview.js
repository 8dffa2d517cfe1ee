// The overview's charts (Apache ECharts, served from our own files): pass rate per slice against the plan's target,
// slices below it drawn red. The data is the JSON block the server embedded in the page (no inline script: CSP).
(function () {
  "use strict";
  var block = document.getElementById("chart-data");
  if (!block || typeof echarts === "undefined") { return; }
  var data = JSON.parse(block.textContent);
  var charts = [];
  document.querySelectorAll(".chart[data-series]").forEach(function (el) {
    var rows = data[el.getAttribute("data-series")] || [];
    var chart = echarts.init(el, null, { renderer: "svg" });
    var target = rows.length && rows[0].target !== null ? rows[0].target : null;
    var perRowTarget = rows.some(function (r) { return r.target !== target; });
    chart.setOption({
      animation: false,
      grid: { left: 48, right: 72, top: 24, bottom: 64 },
      tooltip: { trigger: "axis", formatter: function (items) {
        var r = rows[items[0].dataIndex], esc = echarts.format.encodeHTML;
        return esc(r.label) + "<br>" + data.labels.rate + " " + (r.rate === null ? "–" : r.rate + "%") +
          " (" + r.passed + "/" + r.count + ")" + (r.target !== null ? "<br>" + data.labels.target + " " + r.target + "%" : "") +
          (r.below ? "<br>" + data.labels.below : "");
      } },
      xAxis: { type: "category", data: rows.map(function (r) { return r.label; }),
               axisLabel: { interval: 0, rotate: rows.length > 5 ? 30 : 0 } },
      // the axis starts 10 points under the lowest bar (a bar at the axis' minimum would have no height)
      yAxis: { type: "value", min: function (v) { return Math.max(0, Math.floor((Math.min(v.min, 90) - 10) / 10) * 10); },
               max: 100, axisLabel: { formatter: "{value}%" } },
      series: [
        { type: "bar", name: data.labels.rate, barMaxWidth: 48,
          data: rows.map(function (r) {
            return { value: r.rate, itemStyle: { color: r.below ? "#b3261e" : "#1f6f4a" } };
          }),
          label: { show: true, position: "top", formatter: function (p) {
            var r = rows[p.dataIndex]; return r.rate === null ? "" : r.rate + "% n=" + r.count;
          } },
          markLine: target === null || perRowTarget ? undefined : {
            symbol: "none", lineStyle: { color: "#8a5a00", type: "dashed" },
            label: { formatter: data.labels.target + " " + target + "%" }, data: [{ yAxis: target }]
          } },
        perRowTarget ? { type: "scatter", name: data.labels.target, symbol: "rect", symbolSize: [40, 3],
          itemStyle: { color: "#8a5a00" }, data: rows.map(function (r) { return r.target; }) } : null
      ].filter(Boolean)
    });
    el.setAttribute("data-ready", "1");
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
}());
