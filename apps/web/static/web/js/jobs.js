/* Live job progress: polls /api/v1/jobs/<id> for every .job-progress block; reloads the page when one ends
   (the server then renders the results), and posts the "start a job" form to the API. */
(function () {
  "use strict";
  const A = window.AstroLoc;
  const FINISHED = ["succeeded", "failed", "cancelled"];

  function watch(block) {
    const id = block.dataset.jobId;
    const field = (name) => block.querySelector('[data-field="' + name + '"]');
    const bar = block.querySelector("progress");
    async function poll() {
      try {
        const job = await A.api("/api/v1/jobs/" + id);
        bar.value = job.progress;
        field("percent").textContent = Math.round(job.progress * 100) + " %";
        field("status").textContent = job.status;
        field("status").className = "status-badge status-" + job.status;
        field("message").textContent = job.progress_message || "";
        field("error").textContent = job.error || "";
        field("error").hidden = !job.error;
        if (FINISHED.includes(job.status)) {
          if (block.dataset.jobStatus !== job.status && block.dataset.reload !== "no") window.location.reload();
          return;
        }
      } catch (err) {
        field("error").textContent = "Could not read job " + id + ": " + err.message;
        field("error").hidden = false;
      }
      setTimeout(poll, 1000);
    }
    if (!FINISHED.includes(block.dataset.jobStatus)) poll();
  }
  document.querySelectorAll(".job-progress").forEach(watch);

  document.querySelectorAll(".job-cancel").forEach((button) => button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await A.api("/api/v1/jobs/" + button.dataset.jobId + "/cancel", { method: "POST" });
      button.textContent = "Cancel requested";
    } catch (err) {
      button.disabled = false;
      button.textContent = "Cancel failed: " + err.message;
    }
  }));

  const form = document.getElementById("job-start");
  if (form) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const out = document.getElementById("job-start-status");
      let parameters = {};
      try {
        parameters = JSON.parse(form.parameters.value || "{}");
      } catch (err) {
        out.textContent = "Parameters must be a JSON object: " + err.message;
        return;
      }
      try {
        const job = await A.api("/api/v1/jobs", { method: "POST", body: { kind: form.kind.value, parameters } });
        window.location.assign("/jobs/" + job.id + "/");
      } catch (err) {
        out.textContent = "Could not start the job: " + err.message;
      }
    });
  }
})();
