"""The long-running processes: `up`, `serve`, `events`, `scheduler`, and the leader lock."""
