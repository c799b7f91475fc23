// The console's only script: live sections follow the alert stream, and the temperature chart.
// Without it every page still works (forms post, pages reload); htmx swaps sections in when it is there.
(function () {
  "use strict";

  function follow(section) {
    var target = document.querySelector(section.dataset.target);
    var status = document.getElementById("live-status");
    var pending = false, timer = null;
    var say = function (text) { if (status) { status.textContent = text; } };

    function busy() {
      // Never swap the list out from under someone typing a note in it.
      var el = document.activeElement;
      return el && target && target.contains(el) && el.tagName === "INPUT" && el.value;
    }
    function refresh() {
      timer = null;
      if (busy()) { pending = true; return; }
      pending = false;
      window.htmx.ajax("GET", section.dataset.refresh, { target: section.dataset.target, swap: "outerHTML" })
        .then(function () { target = document.querySelector(section.dataset.target); });
    }
    function soon() { if (!timer) { timer = setTimeout(refresh, 100); } }
    document.addEventListener("focusout", function () { if (pending) { soon(); } });

    var source = new EventSource(section.dataset.stream);
    source.onopen = function () { say("Live"); };
    source.onerror = function () { say("Reconnecting…"); };
    source.addEventListener("alert", soon);
    source.addEventListener("resync", soon);
    source.addEventListener("end", function () { source.close(); window.location.reload(); });
  }

  function temperatures(el) {
    var data = JSON.parse(document.getElementById(el.dataset.source).textContent);
    if (!window.uPlot || !data.t.length) { return; }
    var colours = ["#0b57a4", "#a3001b", "#2f6f4f", "#8a4300", "#4b3f8f", "#00677a", "#5f5300"];
    var series = [{}].concat(data.rooms.map(function (room, i) {
      return { label: room, stroke: colours[i % colours.length], width: 2, value: function (u, v) { return v == null ? "–" : v.toFixed(1) + " °C"; } };
    }));
    // Times on the home's clock, 24-hour, whatever the browser's own zone.
    var clock = new Intl.DateTimeFormat("en-GB", { timeZone: data.tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    var day = new Intl.DateTimeFormat("en-GB", { timeZone: data.tz, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    var opts = {
      width: el.clientWidth || 340, height: 220, series: series,
      axes: [
        { values: function (u, vals) { return vals.map(function (v) { return clock.format(new Date(v * 1000)); }); } },
        { values: function (u, vals) { return vals.map(function (v) { return v + "°"; }); } },
      ],
    };
    series[0] = { label: "Time", value: function (u, v) { return v == null ? "–" : day.format(new Date(v * 1000)); } };
    var plot = new window.uPlot(opts, [data.t].concat(data.series), el);
    window.addEventListener("resize", function () { plot.setSize({ width: el.clientWidth, height: 220 }); });
  }

  function start() {
    document.querySelectorAll("[data-stream]").forEach(follow);
    document.querySelectorAll(".chart[data-source]").forEach(temperatures);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
