from sqlmodel import SQLModel

from keel.db import new_registry


class LedgerTable(SQLModel, registry=new_registry()):
    pass


metadata = LedgerTable.metadata
