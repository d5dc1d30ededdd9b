/* Upload page: drag and drop, then a multipart POST to /api/v1/batches with progress; on success, the batch page. */
(function () {
  "use strict";
  const A = window.AstroLoc;
  const form = document.getElementById("upload-form");
  const input = document.getElementById("files");
  const zone = document.getElementById("dropzone");
  const list = document.getElementById("file-list");
  const progress = document.getElementById("upload-progress");
  const statusNode = document.getElementById("upload-status");
  const button = document.getElementById("upload-button");

  function showFiles() {
    list.innerHTML = "";
    for (const f of input.files) {
      const li = document.createElement("li");
      li.textContent = f.name + " (" + Math.ceil(f.size / 1024) + " KiB)";
      list.appendChild(li);
    }
  }
  input.addEventListener("change", showFiles);
  ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (e) => {
    e.preventDefault(); zone.classList.add("dragover");
  }));
  ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("dragover")));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    input.files = e.dataTransfer.files;
    showFiles();
  });

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!input.files.length) { statusNode.textContent = "Choose at least one file."; return; }
    const data = new FormData(form);
    if (!data.get("name")) data.delete("name");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRFToken", A.csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (ev) => {
      if (ev.lengthComputable) progress.value = Math.round((100 * ev.loaded) / ev.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
      if (xhr.status === 201 && body) {
        progress.value = 100;
        statusNode.textContent = "Uploaded as batch " + body.batch.id + "; import job " + body.job.id + " queued.";
        window.location.assign("/batches/" + body.batch.id + "/");
      } else {
        button.disabled = false;
        statusNode.textContent = "Upload refused: " + ((body && (body.description || body.detail)) || xhr.status) +
          (body && body.fields ? " " + JSON.stringify(body.fields) : "");
      }
    });
    xhr.addEventListener("error", () => { button.disabled = false; statusNode.textContent = "Network error during upload."; });
    button.disabled = true;
    statusNode.textContent = "Uploading…";
    xhr.send(data);
  });
})();
