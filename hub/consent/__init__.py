"""PDL consent filter: directives (Consent) compiled per patient, the decision engine, masking. No I/O.

Specification: domain.md section 5 (Patientdatalagen SFS 2008:355; Inera Spärrtjänst/Samtyckestjänst).
"""

from hub.consent._codes import Rule
from hub.consent._compile import compile_policy
from hub.consent._decide import decide, decide_many
from hub.consent._mask import mask
from hub.consent._model import Decision, PatientPolicy, Requester

__all__ = ["Decision", "PatientPolicy", "Requester", "Rule", "compile_policy", "decide", "decide_many", "mask"]
