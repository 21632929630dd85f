// Keeps a draw's progress bar up to date while its job runs (the page also has a refresh
// link, so it works without this script). Reloads the page when the job has finished.
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-poll");
  var bar = document.getElementById("job-bar");
  var text = document.getElementById("job-message");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        if (typeof job.progress === "number") { bar.value = job.progress; }
        if (job.message) { text.textContent = job.message; }
        if (job.status === "queued" || job.status === "running") {
          window.setTimeout(poll, 700);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 500);
})();
