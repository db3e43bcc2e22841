/* Lesson heartbeat: reports active study time and video position.
 * Time counts only while the tab is visible and the learner was active
 * (pointer, keys, scroll) in the last two minutes or a video is playing. */
(function () {
  "use strict";
  var main = document.querySelector("[data-heartbeat-url]");
  if (!main) { return; }
  var url = main.getAttribute("data-heartbeat-url");
  var interval = parseInt(main.getAttribute("data-heartbeat-interval"), 10) || 15;
  var token = main.getAttribute("data-csrf-token");
  var video = document.querySelector("video[data-course-video]");
  var lastActivity = Date.now();
  var idleLimit = 120 * 1000;
  ["mousemove", "keydown", "scroll", "touchstart", "click"].forEach(function (name) {
    window.addEventListener(name, function () { lastActivity = Date.now(); }, { passive: true });
  });
  if (video) {
    var resume = parseFloat(main.getAttribute("data-video-position")) || 0;
    video.addEventListener("loadedmetadata", function () {
      if (resume > 0 && resume < video.duration - 2) { video.currentTime = resume; }
    });
  }
  function active() {
    if (document.visibilityState !== "visible") { return false; }
    if (video && !video.paused && !video.ended) { return true; }
    return Date.now() - lastActivity < idleLimit;
  }
  function renderRules(rules) {
    var list = document.getElementById("lesson-rules");
    if (!list || !rules) { return; }
    list.innerHTML = "";
    rules.forEach(function (rule) {
      var item = document.createElement("li");
      item.textContent = rule.label;
      if (rule.met) { item.className = "is-met"; }
      list.appendChild(item);
    });
  }
  var pending = false;
  function beat() {
    if (pending || !active()) { return; }
    var payload = { delta: interval };
    if (video && video.duration && isFinite(video.duration)) {
      payload.video_position = video.currentTime;
      payload.video_duration = video.duration;
    }
    pending = true;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(payload)
    }).then(function (response) { return response.json(); })
      .then(function (data) { if (data && data.ok) { renderRules(data.rules); } })
      .catch(function () { /* offline: the next beat will try again */ })
      .then(function () { pending = false; });
  }
  window.setInterval(beat, interval * 1000);
})();
