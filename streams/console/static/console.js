// Draws the accesses chart from the data the page carries (no inline script: the
// Content-Security-Policy allows the console's own files only).
(function () {
  var canvas = document.getElementById("accesses-chart");
  if (!canvas || !window.Chart) { return; }
  var data = JSON.parse(canvas.getAttribute("data-chart"));
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: "Accesses", data: data.accesses, backgroundColor: "#005eb8" },
        { label: "Silent reads", data: data.silent, backgroundColor: "#768692" },
        { label: "Refused", data: data.refused, backgroundColor: "#d5281b" }
      ]
    },
    options: { animation: false, responsive: true }
  });
})();
