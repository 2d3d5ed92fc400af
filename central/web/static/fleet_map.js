/* Live fleet map on the dashboard: the AGV grid as SVG, vehicles with their planned paths,
   stations and the task queue, kept current by server-sent events from /dash/fleet/stream. */
(function () {
  "use strict";
  var box = document.getElementById("fleet-map");
  if (!box || !window.EventSource) return;
  var queue = document.getElementById("fleet-queue");
  var NS = "http://www.w3.org/2000/svg";
  var FILL = {"#": "#334155", ".": "#f8fafc", P: "#fde68a", K: "#bbf7d0", D: "#bfdbfe", R: "#e9d5ff", H: "#e5e7eb"};
  var COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f"];
  var cellM = 1, svg, blocks, paths, agvs, markers = {};

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function nodeXY(id) {  // "c{x}_{y}" -> centre of the cell
    var m = /^c(\d+)_(\d+)$/.exec(id);
    return m ? [Number(m[1]) + 0.5, Number(m[2]) + 0.5] : null;
  }
  function color(serial) {
    var h = 0;
    for (var i = 0; i < serial.length; i++) h = (h * 31 + serial.charCodeAt(i)) >>> 0;
    return COLORS[h % COLORS.length];
  }

  function drawLayout(map) {
    cellM = map.cell_m || 1;
    var h = map.rows.length, w = Math.max.apply(null, map.rows.map(function (r) { return r.length; }));
    box.textContent = "";
    box.classList.add("live");
    svg = el("svg", {viewBox: "0 0 " + w + " " + h, role: "img", "aria-label": "fleet map"}, box);
    var floor = el("g", {"class": "floor"}, svg);
    map.rows.forEach(function (row, y) {
      for (var x = 0; x < w; x++) {
        var ch = row.charAt(x) || "#";
        el("rect", {x: x, y: y, width: 1, height: 1, fill: FILL[ch] || "#fff", "class": "cell cell-" + (ch === "#" ? "wall" : ch === "." ? "lane" : "station")}, floor);
        if (ch !== "#" && ch !== ".") {
          var t = el("text", {x: x + 0.5, y: y + 0.68, "text-anchor": "middle", "class": "station", "data-node": "c" + x + "_" + y}, floor);
          t.textContent = ch;
        }
      }
    });
    blocks = el("g", {"class": "blocks"}, svg);
    paths = el("g", {"class": "paths"}, svg);
    agvs = el("g", {"class": "agvs"}, svg);
  }

  function drawVehicles(vehicles) {
    while (paths.firstChild) paths.removeChild(paths.firstChild);
    var seen = {};
    vehicles.forEach(function (v) {
      seen[v.serial] = true;
      var c = color(v.serial);
      var pts = v.path.map(nodeXY).filter(Boolean);
      if (pts.length > 1) {
        el("polyline", {points: pts.map(function (p) { return p.join(","); }).join(" "), fill: "none", stroke: c,
          "stroke-width": 0.18, "stroke-opacity": 0.55, "stroke-linejoin": "round", "class": "path", "data-serial": v.serial}, paths);
      }
      var m = markers[v.serial];
      if (!m) {
        m = markers[v.serial] = el("g", {"class": "agv", id: "agv-" + v.serial, "data-serial": v.serial}, agvs);
        el("circle", {r: 0.42, fill: c, stroke: "#fff", "stroke-width": 0.08}, m);
        var label = el("text", {y: 0.16, "text-anchor": "middle", "class": "agv-label"}, m);
        var num = /(\d+)$/.exec(v.serial);
        label.textContent = num ? String(Number(num[1])) : v.serial.slice(0, 3);
        el("title", {}, m);
      }
      var x = v.x / cellM + 0.5, y = v.y / cellM + 0.5;
      m.setAttribute("transform", "translate(" + x.toFixed(2) + "," + y.toFixed(2) + ")");
      m.setAttribute("data-node", v.node);
      m.setAttribute("class", "agv " + v.status + (v.online ? "" : " offline"));
      m.querySelector("title").textContent = v.serial + " · " + v.status + " · " + Math.round(v.battery_pct) + " %" + (v.task_id ? " · " + v.task_id : "");
    });
    Object.keys(markers).forEach(function (s) {
      if (!seen[s]) { markers[s].remove(); delete markers[s]; }
    });
  }

  function drawBlocks(blocked) {  // nodes held by a vehicle out of service or an obstacle
    while (blocks.firstChild) blocks.removeChild(blocks.firstChild);
    (blocked || []).forEach(function (b) {
      var p = nodeXY(b.node);
      if (!p) return;
      var r = el("rect", {x: p[0] - 0.5, y: p[1] - 0.5, width: 1, height: 1, "class": "blocked " + b.kind, "data-node": b.node}, blocks);
      el("title", {}, r).textContent = b.node + " · " + (b.kind === "obstacle" ? "obstacle (" + b.vehicle + ")" : b.vehicle);
    });
  }

  function drawQueue(view) {
    if (!queue) return;
    queue.textContent = "";
    (view.alarms || []).forEach(function (a) {  // loads left on vehicles, stations cut off
      var li = document.createElement("li");
      li.className = "alarm " + (a.kind || "");
      li.textContent = "⚠ " + (a.kind === "load_on_vehicle" ? a.task_id + ": " : "") + a.message;
      queue.appendChild(li);
    });
    var open = view.tasks.filter(function (t) { return t.status !== "done" && t.status !== "cancelled"; });
    open.slice(0, 12).forEach(function (t) {
      var li = document.createElement("li");
      li.className = "task " + t.status;
      li.textContent = t.id + " " + t.kind + " " + t.source + " → " + t.dest + " · " + t.status + (t.vehicle ? " · " + t.vehicle : "");
      if (t.waiting) li.title = t.waiting;  // why it is not under way
      queue.appendChild(li);
    });
    if (open.length > 12) {
      var more = document.createElement("li");
      more.className = "more";
      more.textContent = "+" + (open.length - 12);
      queue.appendChild(more);
    }
    (view.pick_stations || []).forEach(function (s) {
      var li = document.createElement("li");
      li.className = "station";
      li.textContent = s.station + ": " + (s.running || "–") + " (+" + s.queued + ")";
      queue.appendChild(li);
    });
    box.classList.toggle("paused", !!view.paused);
    box.classList.toggle("estop", !!view.emergency_stop);
    box.setAttribute("data-done", String(view.tasks.length - open.length));
    box.classList.toggle("alarm", (view.alarms || []).length > 0);
  }

  fetch(box.getAttribute("data-map"), {credentials: "same-origin"})
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (map) {
      if (!map) return;  // no fleet here: the box keeps its text
      drawLayout(map);
      var source = new EventSource(box.getAttribute("data-stream"));
      source.addEventListener("fleet", function (e) {
        var view = JSON.parse(e.data);
        drawBlocks(view.blocked);
        drawVehicles(view.vehicles);
        drawQueue(view);
        box.setAttribute("data-updates", String(Number(box.getAttribute("data-updates") || 0) + 1));
      });
      source.addEventListener("gone", function () { source.close(); });
    });
})();
