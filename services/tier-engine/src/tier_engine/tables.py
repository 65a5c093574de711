from keel.db import new_registry
from sqlmodel import SQLModel


class TierTable(SQLModel, registry=new_registry()):
    pass


metadata = TierTable.metadata
