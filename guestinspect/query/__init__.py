"""``guestinspect query``: Datalog rules over a fleet inventory (docs/fleet.md "Queries")."""
