from sqlmodel import SQLModel

from keel.db import new_registry


class TierTable(SQLModel, registry=new_registry()):
    pass


metadata = TierTable.metadata
