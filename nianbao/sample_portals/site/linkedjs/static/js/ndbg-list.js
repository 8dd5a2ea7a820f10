(function () {
  var app = document.getElementById("app");
  var xhr = new XMLHttpRequest();
  xhr.open("GET", "/zwgk/ndbg/data.json");
  xhr.onload = function () {
    var body = JSON.parse(xhr.responseText);
    var ul = document.createElement("ul");
    ul.className = "doc-list";
    body.items.forEach(function (doc) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = doc.link; a.title = doc.name; a.textContent = doc.name;
      var span = document.createElement("span"); span.textContent = doc.time;
      li.appendChild(a); li.appendChild(span); ul.appendChild(li);
    });
    app.appendChild(ul);
  };
  xhr.send();
})();
