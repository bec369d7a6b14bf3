"""What keeps running: `arrears up`, `run` and `worker` until Ctrl-C (`running`: the stack,
a worker, the stack check), and `arrears run`'s demo (`dashboard`: the live summary and a
stand-in payments feed). Above `arrears.stack` (the servers) and `arrears.workers` (a
worker's wiring), which it starts; neither imports it."""
