/** The procedure spec lives in core (clients name procedures too); procedures/ re-exports it. */
export { checkProcedureSpec, procedureHash, PROCEDURE_KINDS, PROCEDURE_SOURCE_CHARS_MAX, type ProcedureKind, type ProcedureSpec } from '../core/procedure-spec.js';
