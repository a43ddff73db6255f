"""The core: configuration, clock, periods, catalogue, formatting and the warehouse.

Everything else imports from here; nothing here imports from the layers above.
"""
