// Loads htmx and its SSE extension from the CDN without ever holding the page: the copies on the CDN
// are asked for in the background (with their Subresource Integrity), and when htmx has not arrived
// within CDN_WAIT_MS (a CDN that is slow or unreachable, as public CDNs can be from mainland China),
// the copies served by this site take over. The app's own script comes last. Every page works
// without any of them.
(function () {
  "use strict";
  var CDN_WAIT_MS = 1500;
  var loader = document.currentScript;
  var data = loader.dataset;
  var domLoaded = document.readyState !== "loading";
  document.addEventListener("DOMContentLoaded", function () {
    domLoaded = true;
  });

  function add(src, integrity) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      if (integrity) {
        script.integrity = integrity;
        script.crossOrigin = "anonymous";
      }
      if (loader.nonce) script.nonce = loader.nonce;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function within(promise, ms) {
    return Promise.race([
      promise,
      new Promise(function (resolve, reject) {
        setTimeout(reject, ms);
      }),
    ]);
  }

  var source = "cdn";
  within(add(data.htmxCdn, data.htmxSri), CDN_WAIT_MS)
    .catch(function () {
      // A late CDN copy may still run after this one; htmx marks each element it has set up, so
      // the second copy leaves them alone.
      if (window.htmx) return;
      source = "local";
      return add(data.htmxLocal);
    })
    .then(function () {
      // htmx sets itself up at DOMContentLoaded. Arriving after it (but before the page's load
      // event) it would wait for an event that has passed: it is told again, and only it listens yet.
      if (domLoaded && document.readyState !== "complete") document.dispatchEvent(new Event("DOMContentLoaded"));
      return source === "cdn" ? within(add(data.sseCdn, data.sseSri), CDN_WAIT_MS) : add(data.sseLocal);
    })
    .catch(function () {
      return add(data.sseLocal);
    })
    .then(
      function () {
        document.documentElement.dataset.htmxFrom = source;
        return add(data.app);
      },
      function () {
        return add(data.app);
      }
    );
})();
