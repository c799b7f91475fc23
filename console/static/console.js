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
    // Sections that change with the clock too (a visit becomes late with no event): refresh now and then.
    if (section.dataset.every) { setInterval(soon, Number(section.dataset.every) * 1000); }
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

  // Check-in and check-out: the browser's location at that moment (never a trail) goes with the form.
  // Without a fix (refused, no GPS, no script) the form still posts, and the visit is flagged no_fix.
  function locate(form) {
    var status = document.getElementById("locate-status");
    var say = function (text) { if (status) { status.textContent = text; } };
    form.addEventListener("submit", function (event) {
      if (form.dataset.located === "1" || !navigator.geolocation) { return; }
      event.preventDefault();
      var button = form.querySelector("button");
      if (button) { button.disabled = true; }
      say("Finding your location…");
      var send = function () { form.dataset.located = "1"; form.submit(); };
      navigator.geolocation.getCurrentPosition(function (position) {
        form.elements.latitude.value = position.coords.latitude;
        form.elements.longitude.value = position.coords.longitude;
        form.elements.accuracy_m.value = Math.round(position.coords.accuracy);
        say("Location found; sending.");
        send();
      }, function () {
        say("No location from this phone: sending without it (the office will see that).");
        send();
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  function start() {
    document.querySelectorAll("form[data-locate]").forEach(locate);
    document.querySelectorAll("[data-stream]").forEach(follow);
    document.querySelectorAll(".chart[data-source]").forEach(temperatures);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
