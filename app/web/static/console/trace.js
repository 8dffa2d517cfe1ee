// The trace drawn with Cytoscape.js (served from our own files): lots and parties as nodes, movements between
// parties, lineage between lots. Clicking a lot selects it for the recall form (its checkbox below the drawing).
(function () {
  "use strict";
  var block = document.getElementById("graph-data");
  var box = document.getElementById("trace-graph");
  if (!block || !box || typeof cytoscape === "undefined") { return; }
  var data = JSON.parse(block.textContent);
  var cy = cytoscape({
    container: box,
    elements: data.nodes.concat(data.edges),
    wheelSensitivity: 0.3,
    style: [
      { selector: "node", style: { "label": "data(label)", "font-size": 11, "text-wrap": "wrap",
        "text-max-width": 120, "text-valign": "bottom", "text-margin-y": 4, "color": "#1d2320" } },
      { selector: "node.lot-like", style: { "shape": "round-rectangle", "width": 34, "height": 22,
        "background-color": "#ffffff", "border-width": 2, "border-color": "#7a8a84" } },
      { selector: "node.party", style: { "shape": "ellipse", "width": 30, "height": 30,
        "background-color": "#dbe6f5", "border-width": 2, "border-color": "#1d4f91", "font-weight": "bold" } },
      { selector: "node.recalled", style: { "background-color": "#b3261e", "border-color": "#b3261e" } },
      { selector: "node.on_hold", style: { "background-color": "#f2b632", "border-color": "#c98a00" } },
      { selector: "node.failed", style: { "border-color": "#b3261e", "border-width": 4, "border-style": "dashed" } },
      { selector: "node.start", style: { "width": 44, "height": 28 } },
      { selector: "node.picked", style: { "overlay-color": "#1d4f91", "overlay-opacity": 0.25, "overlay-padding": 6 } },
      { selector: "edge", style: { "width": 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle",
        "line-color": "#9aa7a1", "target-arrow-color": "#9aa7a1", "font-size": 9, "color": "#5f6b66" } },
      { selector: "edge.lineage", style: { "line-color": "#5f6b66", "target-arrow-color": "#5f6b66" } },
      { selector: "edge.owner", style: { "line-style": "dotted", "target-arrow-shape": "none" } },
      { selector: "edge.movement", style: { "width": 3, "line-color": "#1d4f91", "target-arrow-color": "#1d4f91",
        "label": "data(label)", "text-rotation": "autorotate", "text-background-color": "#fbfcfd",
        "text-background-opacity": 1 } }
    ],
    layout: { name: "breadthfirst", directed: true, spacingFactor: 1.1, padding: 20 }
  });
  function boxFor(key) {
    return document.querySelector('#trace-lots input[type=checkbox][data-key="' + CSS.escape(key) + '"]');
  }
  function sync() {
    cy.nodes("[kind = 'lot']").forEach(function (n) {
      var input = boxFor(n.id());
      n.toggleClass("picked", !!(input && input.checked));
    });
  }
  cy.on("tap", "node[kind = 'lot']", function (evt) {
    var input = boxFor(evt.target.id());
    if (input) { input.checked = !input.checked; sync(); }
  });
  document.querySelectorAll("#trace-lots input[type=checkbox]").forEach(function (input) {
    input.addEventListener("change", sync);
  });
  sync();
  box.setAttribute("data-ready", String(cy.nodes().length));
}());
