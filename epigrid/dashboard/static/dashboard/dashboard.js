// The dashboard's charts (dashboard/desk.html and screen.html): fetch the figures' JSON (the same
// scoping as the tiles), draw the trends, the round's coverage by child area (a bar's click drills
// down to that area) and key persons by category with ECharts. On the wall screen the figures are
// fetched again every data-refresh seconds and the tiles' numbers updated in place.
(function () {
  "use strict";
  var root = document.getElementById("dash-charts");
  if (!root || !window.echarts) { return; }
  var labels = JSON.parse(document.getElementById("dash-labels").textContent);
  var dark = document.body.classList.contains("dash-screen");
  var theme = dark ? "dark" : null;
  var refresh = parseInt(root.dataset.refresh || "0", 10);
  var charts = {};

  function chart(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    if (!charts[id]) { charts[id] = window.echarts.init(el, theme); }
    return charts[id];
  }

  function drillUrl(code) {
    return window.location.pathname + "?area=" + encodeURIComponent(code);
  }

  function drawTrends(trends) {
    var c = chart("chart-trends");
    if (!c) { return; }
    c.setOption({
      backgroundColor: "transparent",
      tooltip: { trigger: "axis" },
      legend: { data: trends.series.map(function (s) { return labels[s.key]; }), top: 0 },
      grid: { left: 40, right: 16, top: 40, bottom: 30 },
      xAxis: { type: "category", data: trends.days.map(function (d) { return d.slice(5); }) },
      yAxis: { type: "value", minInterval: 1 },
      series: trends.series.map(function (s) {
        return { name: labels[s.key], type: "line", smooth: true, data: s.data };
      }),
    }, true);
  }

  function drawCoverage(coverage) {
    var c = chart("chart-coverage");
    if (!c) { return; }
    if (!coverage || !coverage.children.length) {
      c.setOption({ backgroundColor: "transparent", title: { text: labels.no_round, left: "center", top: "middle", textStyle: { fontSize: 14 } } }, true);
      return;
    }
    var rows = coverage.children;
    c.setOption({
      backgroundColor: "transparent",
      title: { text: labels.round + "：" + coverage.round, left: "center", top: 0, textStyle: { fontSize: 13 } },
      tooltip: {
        trigger: "axis",
        formatter: function (p) {
          var r = rows[p[0].dataIndex];
          return r.name + "<br>" + labels.coverage + " " + (r.coverage === null ? "—" : r.coverage) +
            "<br>" + labels.sampled + " " + r.sampled + " / " + labels.expected + " " + r.expected;
        },
      },
      grid: { left: 40, right: 16, top: 36, bottom: 60 },
      xAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { interval: 0, rotate: rows.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", max: 100, name: labels.coverage },
      series: [{ type: "bar", data: rows.map(function (r) { return r.coverage || 0; }), itemStyle: { color: "#2e7d32" } }],
    }, true);
    c.off("click");
    if (coverage.drill) {
      c.on("click", function (p) { window.location.href = drillUrl(rows[p.dataIndex].code); });
    }
  }

  function drawCategories(categories) {
    var c = chart("chart-categories");
    if (!c) { return; }
    var rows = categories.filter(function (r) { return r.value > 0; });
    c.setOption({
      backgroundColor: "transparent",
      tooltip: { trigger: "item" },
      series: [{
        type: "pie", radius: ["35%", "65%"],
        data: rows.map(function (r) { return { name: r.label, value: r.value }; }),
        label: { formatter: "{b}: {c}" },
      }],
    }, true);
  }

  function updateTiles(data) {
    var time = new Date(data.as_of).toTimeString().slice(0, 8);
    data.tiles.forEach(function (t) {
      var tile = document.querySelector('[data-tile="' + t.key + '"]');
      if (!tile) { return; }
      tile.querySelector("[data-value]").textContent = t.value;
      tile.querySelector("[data-as-of]").textContent = time;
    });
    var stamp = document.querySelector("[data-screen-as-of]");
    if (stamp) { stamp.textContent = time; }
  }

  function load(first) {
    fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (data) {
        if (!first) { updateTiles(data); }
        drawTrends(data.trends);
        drawCoverage(data.coverage);
        drawCategories(data.categories);
        root.dataset.loaded = "1";
      })
      .catch(function () {
        if (first) { root.insertAdjacentText("afterbegin", root.dataset.error); }
      });
  }

  load(true);
  if (refresh > 0) { window.setInterval(function () { load(false); }, refresh * 1000); }
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
})();
