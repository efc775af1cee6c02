"""Alert rules: schema and loader, condition evaluators, the pure engine and the lifecycle."""
