// Compares the SHA-256 of a PDF the visitor holds with the one on record.
// The file is read in the browser; nothing is uploaded.
(function () {
  "use strict";
  var input = document.getElementById("cert-file");
  var result = document.getElementById("cert-file-result");
  if (!input || !result) return;
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    result.className = "";
    if (!file) { result.textContent = ""; return; }
    if (!(window.crypto && window.crypto.subtle)) {
      result.textContent = result.dataset.unsupported;
      return;
    }
    file.arrayBuffer().then(function (data) {
      return window.crypto.subtle.digest("SHA-256", data);
    }).then(function (digest) {
      var ok = hex(digest) === input.dataset.expected;
      result.textContent = ok ? result.dataset.match : result.dataset.mismatch;
      result.className = ok ? "cert-ok" : "cert-bad";
    });
  });
})();
