"""Working on running cases, as the supervisors' commands (and, later, the console) do:
naming a case and mapping Temporal's errors (`client`), overrides and retries
(`override`), posting payments (`payments`), and one case or the book in numbers
(`status`)."""
