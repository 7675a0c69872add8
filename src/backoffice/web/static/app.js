// The web app's own script: small, and only where it earns its place. The core flows work without it.
"use strict";
