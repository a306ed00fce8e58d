; swc repo map: Rust definitions and references.

(struct_item
  name: (type_identifier) @name.definition.class) @definition.class

(union_item
  name: (type_identifier) @name.definition.class) @definition.class

(enum_item
  name: (type_identifier) @name.definition.enum) @definition.enum

(trait_item
  name: (type_identifier) @name.definition.interface) @definition.interface

(type_item
  name: (type_identifier) @name.definition.type) @definition.type

(mod_item
  name: (identifier) @name.definition.module) @definition.module

(declaration_list
  (function_item
    name: (identifier) @name.definition.method) @definition.method)

(declaration_list
  (function_signature_item
    name: (identifier) @name.definition.method) @definition.method)

(function_item
  name: (identifier) @name.definition.function) @definition.function

(const_item
  name: (identifier) @name.definition.constant) @definition.constant

(static_item
  name: (identifier) @name.definition.constant) @definition.constant

(macro_definition
  name: (identifier) @name.definition.function) @definition.function

(call_expression
  function: [
    (identifier) @name.reference.call
    (field_expression
      field: (field_identifier) @name.reference.call)
    (scoped_identifier
      name: (identifier) @name.reference.call)
  ])

(macro_invocation
  macro: (identifier) @name.reference.call)

(field_expression
  field: (field_identifier) @name.reference.attribute)

(type_identifier) @name.reference.type

(identifier) @name.reference.identifier
