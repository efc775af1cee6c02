"""Static wall screen and team views (HTML, CSS, ES modules), served by the API; no build step."""
