// Small enhancements; every page works without them.
(function () {
  "use strict";

  function detectTimeZone(root) {
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    root.querySelectorAll("input[data-detect-time-zone]").forEach(function (input) {
      if (!input.value && zone) input.value = zone;
    });
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function drawNetworkMap(root) {
    var element = root.querySelector ? root.querySelector("#network-map") : null;
    if (!element || element.dataset.ready || typeof L === "undefined") return;
    var source = document.getElementById("map-points");
    var points = source ? JSON.parse(source.textContent) : [];
    if (!points.length) return;
    element.hidden = false;
    element.dataset.ready = "1";
    var map = L.map(element, { scrollWheelZoom: false, worldCopyJump: true });
    L.tileLayer(element.dataset.tileUrl, {
      maxZoom: 18,
      attribution: element.dataset.attribution,
    }).addTo(map);
    var icon = L.icon({
      iconUrl: element.dataset.markerIcon,
      iconRetinaUrl: element.dataset.markerIcon2x,
      shadowUrl: element.dataset.markerShadow,
      iconSize: [25, 41],
      iconAnchor: [12, 41],
      popupAnchor: [1, -34],
      shadowSize: [41, 41],
    });
    var bounds = [];
    points.forEach(function (point) {
      var label = escapeHtml(point.name) + (point.local ? "<br>" + escapeHtml(point.local) : "");
      L.marker([point.lat, point.lng], { icon: icon, title: point.name })
        .bindPopup(label)
        .addTo(map);
      bounds.push([point.lat, point.lng]);
    });
    map.fitBounds(bounds, { padding: [20, 20] });
  }

  function syncDocumentLanguage() {
    var page = document.getElementById("page");
    if (page && page.lang) document.documentElement.lang = page.lang;
  }

  function enhance(root) {
    syncDocumentLanguage();
    detectTimeZone(root);
    drawNetworkMap(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    if (window.htmx) {
      htmx.onLoad(function (element) {
        enhance(element === document.body ? document : element);
      });
    }
  });
})();
