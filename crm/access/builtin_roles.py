"""The roles every installation starts with. Admins may edit them; the migration only adds missing ones."""

ALL_ACTIONS = ["view", "add", "change", "delete", "export"]
EDIT = ["view", "add", "change"]
RECORDS = ["company", "contact", "lead", "deal", "activity", "task"]
# The organization's catalogue (crm/products): managers keep it, everyone else reads it.
CATALOGUE = ["product", "price_book"]
VIEW_CATALOGUE = {t: ["view"] for t in CATALOGUE}
# Orders (crm/orders): reps write their customers' orders, managers everything; crm/orders/0002 grants them.
ORDERS = ["order"]
# Commissions (crm/commissions; an area, not a record type): reps read and export their own statements,
# managers their team's and adjust them; crm/commissions/0001 grants them.
COMMISSION = {"sales-manager": ["view", "change", "export"], "sales-rep": ["view", "export"]}
# Invoices (crm/invoices): managers keep them, reps and support read their customers'; crm/invoices/0001 grants them.
INVOICES = ["invoice"]

BUILTIN_ROLES = [
    {"slug": "admin", "name": "Admin", "scope": "all", "is_admin": True, "permissions": {}},
    {
        "slug": "sales-manager",
        "name": "Sales manager",
        "scope": "team",
        "is_admin": False,
        "permissions": {
            **{t: ALL_ACTIONS for t in RECORDS},
            **{t: ALL_ACTIONS for t in CATALOGUE},
            "order": ALL_ACTIONS,
            "commission": COMMISSION["sales-manager"],
            "invoice": ALL_ACTIONS,
        },
    },
    {
        "slug": "sales-rep",
        "name": "Sales rep",
        "scope": "own",
        "is_admin": False,
        "permissions": {
            **{t: EDIT for t in RECORDS},
            "activity": [*EDIT, "delete"],
            "task": [*EDIT, "delete"],
            **VIEW_CATALOGUE,
            "order": EDIT,
            "commission": COMMISSION["sales-rep"],
            "invoice": ["view"],
        },
    },
    {
        "slug": "support-agent",
        "name": "Support agent",
        "scope": "all",
        "is_admin": False,
        "permissions": {
            "company": ["view"],
            "contact": EDIT,
            "deal": ["view"],
            "activity": EDIT,
            "task": EDIT,
            **VIEW_CATALOGUE,
            "order": ["view"],
            "invoice": ["view"],
        },
    },
    {
        "slug": "marketer",
        "name": "Marketer",
        "scope": "all",
        "is_admin": False,
        "permissions": {
            "company": [*EDIT, "export"],
            "contact": [*EDIT, "export"],
            "lead": [*EDIT, "export"],
            "deal": ["view"],
            "activity": ["view", "add"],
            "task": EDIT,
            **VIEW_CATALOGUE,
            "order": ["view"],
        },
    },
    {
        "slug": "read-only",
        "name": "Read-only",
        "scope": "all",
        "is_admin": False,
        "permissions": {t: ["view"] for t in [*RECORDS, *CATALOGUE, *ORDERS, *INVOICES]},
    },
]
