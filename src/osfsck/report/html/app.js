// The report's behaviour: the findings table (filter, sort, expand) and the charts.
// Every value from the data is set as text (textContent), never as markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("osfsck-data").textContent);
  var rows = data.rows;
  var SEV = ["critical", "high", "medium", "low", "info"];
  var sortKey = "severity", sortDir = 1;
  var diffed = !!data.changes;  // compared with a previous run (the state file)

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value === null || value === undefined ? "" : String(value);
    if (cls) { el.className = cls; }
    return el;
  }
  function outcome(r) { return r.plan ? r.plan.outcome || "" : ""; }
  function seen(r) {
    if (r.diff !== "persists") { return r.diff || ""; }
    var d = r.age_days, age = d === null ? "" : d < 1 ? Math.floor(d * 24) + " h" : Math.floor(d) + " d";
    return "since " + (r.first_seen || "").slice(0, 10) + (age ? " (" + age + ")" : "");
  }
  function key(r, k) {
    if (k === "severity") { return SEV.indexOf(r.severity); }
    if (k === "age_days") { return r.age_days === null ? -1 : r.age_days; }
    if (k === "outcome") { return outcome(r); }
    return (r[k] || "").toString().toLowerCase();
  }
  function value(id) {
    var el = document.getElementById(id);  // f-diff is there only when the run compared
    return el ? el.value.trim().toLowerCase() : "";
  }
  function has(field, want) { return !want || (field || "").toString().toLowerCase().indexOf(want) >= 0; }

  function matches(r, f) {
    return (!f.severity || r.severity === f.severity) &&
      (has(r.code, f.code) || has(r.name, f.code)) &&
      has(r.cell, f.cell) && has(r.host, f.host) && has(r.project, f.project) &&
      (!f.diff || r.diff === f.diff) &&
      (!f.text || JSON.stringify(r).toLowerCase().indexOf(f.text) >= 0);
  }

  function detail(r) {
    var td = document.createElement("td");
    td.colSpan = document.querySelectorAll("#findings-table th").length;
    td.appendChild(text("h4", "Finding " + r.code + " " + r.name));
    td.appendChild(text("pre", r.message));
    if (diffed) {
      td.appendChild(text("h4", "Since the previous run"));
      td.appendChild(text("pre", (r.diff === "new" ? "new in this run" : "persists") +
        (r.first_seen ? "; first seen " + r.first_seen : "")));
    }
    if (Object.keys(r.reclaim).length) {
      td.appendChild(text("h4", "Reclaimable"));
      var exact = text("pre", r.reclaim_text);
      exact.title = JSON.stringify(r.reclaim);
      td.appendChild(exact);
    }
    td.appendChild(text("h4", "Evidence"));
    td.appendChild(text("pre", JSON.stringify(r.evidence, null, 2), "evidence"));
    if (r.related.length) {
      td.appendChild(text("h4", "Related"));
      td.appendChild(text("pre", JSON.stringify(r.related, null, 2)));
    }
    td.appendChild(text("h4", "Plan"));
    var p = r.plan;
    td.appendChild(text("pre", p ? [
      "outcome: " + p.outcome + (p.reason ? " (" + p.reason + ")" : ""),
      p.repair ? "repair: " + p.repair + " [" + p.safety + "]" : "no automatic repair",
      p.action ? "action: " + p.action : "",
      p.fallback ? "not automatic here: " + p.fallback : "",
      p.journal_id ? "journal: " + p.journal_id : ""
    ].filter(Boolean).join("\n") : "none", "plan"));
    if (p && p.runbook) {
      td.appendChild(text("h4", "Runbook"));
      td.appendChild(text("pre", p.runbook, "runbook"));
    }
    var tr = document.createElement("tr");
    tr.className = "detail";
    tr.appendChild(td);
    return tr;
  }

  function draw() {
    var f = { severity: value("f-severity"), code: value("f-code"), cell: value("f-cell"),
      host: value("f-host"), project: value("f-project"), text: value("f-text"), diff: value("f-diff") };
    var shown = rows.filter(function (r) { return matches(r, f); });
    shown.sort(function (a, b) {
      var x = key(a, sortKey), y = key(b, sortKey);
      return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
    });
    var body = document.querySelector("#findings-table tbody");
    body.textContent = "";
    shown.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.className = "finding sev-" + r.severity;
      tr.dataset.fingerprint = r.fingerprint;
      var cells = [r.severity, r.code + " " + r.name, r.subject, r.cell, r.host, r.project, outcome(r)];
      cells.forEach(function (v) { tr.appendChild(text("td", v)); });
      if (diffed) { tr.appendChild(text("td", seen(r), "seen " + (r.diff || ""))); }
      tr.appendChild(text("td", r.message, "msg"));
      tr.addEventListener("click", function () {
        var next = tr.nextSibling;
        if (next && next.className === "detail") { next.remove(); } else { tr.after(detail(r)); }
      });
      body.appendChild(tr);
    });
    document.getElementById("shown").textContent = shown.length + " of " + rows.length + " shown";
    document.querySelectorAll("#findings-table th").forEach(function (th) {
      th.className = th.dataset.sort === sortKey ? (sortDir > 0 ? "asc" : "desc") : "";
    });
  }

  document.querySelectorAll(".filters input, .filters select").forEach(function (el) {
    el.addEventListener("input", draw);
  });
  document.querySelectorAll("#findings-table th").forEach(function (th) {
    th.addEventListener("click", function () {
      sortDir = th.dataset.sort === sortKey ? -sortDir : 1;
      sortKey = th.dataset.sort;
      draw();
    });
  });
  draw();

  // -- charts (Chart.js, inline); no animation: the page is read, and screenshot
  var COLOURS = { vcpus: "#4e79a7", memory_mb: "#f28e2b", disk_bytes: "#59a14f" };
  function bars(id, labels, datasets, stacked) {
    var canvas = document.getElementById(id);
    if (!labels.length) {
      canvas.parentNode.replaceChild(text("p", "nothing to show"), canvas);
      return;
    }
    new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: { indexAxis: "y", animation: false, maintainAspectRatio: false, responsive: true,
        plugins: { legend: { display: datasets.length > 1 } },
        scales: { x: { beginAtZero: true, stacked: !!stacked }, y: { stacked: !!stacked } } }
    });
  }
  function counts(id, c) { bars(id, c.labels, [{ label: "findings", data: c.values, backgroundColor: "#4e79a7" }]); }
  function reclaim(id, c) {
    // one axis of different units would be unreadable: each resource as its share of
    // the largest bar of its kind; the tooltip says the real number
    var sets = Object.keys(c.series).map(function (k) {
      var vals = c.series[k], max = Math.max.apply(null, vals.concat([1]));
      return { label: c.names[k], raw: c.text[k], data: vals.map(function (v) { return 100 * v / max; }),
        backgroundColor: COLOURS[k] || "#999" };
    });
    bars(id, c.labels, sets);
    var chart = Chart.getChart(id);
    if (chart) {
      chart.options.plugins.tooltip.callbacks.label = function (ctx) {
        return ctx.dataset.label + ": " + ctx.dataset.raw[ctx.dataIndex];
      };
      chart.options.scales.x.title = { display: true, text: "% of the largest per resource" };
      chart.update();
    }
  }
  counts("chart-per-check", data.charts.per_check);
  counts("chart-per-cell", data.charts.per_cell);
  counts("chart-per-project", data.charts.per_project);
  reclaim("chart-reclaim-cell", data.charts.reclaim_per_cell);
  reclaim("chart-reclaim-host", data.charts.reclaim_per_host);
  if (data.charts.age) {
    bars("chart-age", data.charts.age.labels,
      [{ label: "findings", data: data.charts.age.values, backgroundColor: "#e15759" }]);
  }
}());
