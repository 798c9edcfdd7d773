// The web app's client entry. Pages work without it; it only adds what needs a script.
document.documentElement.classList.add("js");
