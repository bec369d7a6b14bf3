"""Reports on the book (`arrears report KIND`): one definition per kind, run as SQL over
the case event store, on the live database and on simulated events alike."""
