"""The HTTP API: one router per resource, dependencies in deps, assembled by app.create_app."""
