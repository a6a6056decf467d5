// The chain graph and timeline (tracing/chains.html): fetch the graph the server laid out, draw it
// with ECharts (no force layout: 20,000 nodes would keep a phone busy), a node click opens the case.
(function () {
  "use strict";
  var box = document.getElementById("chain-graph");
  var lineBox = document.getElementById("chain-timeline");
  if (!box || !window.echarts) { return; }
  // Sizes here, not in the markup: the CSP refuses style attributes.
  box.style.height = Math.max(320, Math.round(window.innerHeight * 0.6)) + "px";
  lineBox.style.height = "240px";
  var labels = JSON.parse(box.dataset.labels);
  var colours = ["#c62828", "#ef6c00", "#f9a825", "#78909c"];
  var caseUrl = box.dataset.caseUrl;
  var graph = window.echarts.init(box);
  var timeline = window.echarts.init(lineBox);
  graph.showLoading();
  fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    })
    .then(function (data) {
      graph.hideLoading();
      Object.keys(data.counts).forEach(function (key) {
        var cell = document.querySelector('[data-count="' + key + '"]');
        if (cell) { cell.textContent = data.counts[key]; }
      });
      var big = data.nodes.length > 2000;
      var nodes = data.nodes.map(function (n) {
        return {
          id: String(n[0]), name: n[1], category: n[2], x: n[3], y: n[4], caseId: n[5],
          symbolSize: n[2] === 0 ? 14 : (big ? 4 : 8),
        };
      });
      var links = data.links.map(function (l) { return { source: String(l[0]), target: String(l[1]) }; });
      graph.setOption({
        color: colours,
        tooltip: { formatter: function (p) { return p.dataType === "node" ? p.data.name + " · " + labels[data.categories[p.data.category]] : ""; } },
        legend: { data: data.categories.map(function (c) { return labels[c]; }) },
        animation: !big,
        series: [{
          type: "graph", layout: "none", roam: true, draggable: false,
          categories: data.categories.map(function (c) { return { name: labels[c] }; }),
          data: nodes, links: links,
          label: { show: !big && nodes.length < 300, position: "right", fontSize: 10 },
          lineStyle: { color: "source", opacity: 0.5 },
          emphasis: { focus: "adjacency" },
        }],
      });
      graph.on("click", function (p) {
        if (p.dataType === "node" && p.data.caseId) {
          window.location.href = caseUrl.replace("/0/", "/" + p.data.caseId + "/");
        }
      });
      timeline.setOption({
        tooltip: { trigger: "axis" },
        legend: { data: [labels.cases, labels.contacts] },
        xAxis: { type: "category", data: data.timeline.days },
        yAxis: [{ type: "value", minInterval: 1 }, { type: "value", minInterval: 1 }],
        series: [
          { name: labels.cases, type: "bar", data: data.timeline.cases, itemStyle: { color: colours[0] } },
          { name: labels.contacts, type: "line", yAxisIndex: 1, data: data.timeline.contacts, itemStyle: { color: colours[1] } },
        ],
      });
      box.dataset.ready = "1";
    })
    .catch(function () {
      graph.hideLoading();
      box.textContent = box.dataset.error || "—";
    });
  window.addEventListener("resize", function () { graph.resize(); timeline.resize(); });
})();
