"""A small shop: orders move pending -> paid -> packed -> shipped -> delivered, or are cancelled.

``models`` holds the workflow, ``receivers`` what the shop does when an order
moves, ``storage`` the SQLite database; ``python -m examples.orders`` runs a batch.
"""
