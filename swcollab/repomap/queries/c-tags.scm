; swc repo map: C definitions and references.

(function_definition
  declarator: (function_declarator
    declarator: (identifier) @name.definition.function)) @definition.function

(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator
      declarator: (identifier) @name.definition.function))) @definition.function

; Prototypes: a header's outline is its declarations.
(translation_unit
  (declaration
    declarator: [
      (function_declarator
        declarator: (identifier) @name.definition.function)
      (pointer_declarator
        declarator: (function_declarator
          declarator: (identifier) @name.definition.function))
    ]) @definition.function)

(struct_specifier
  name: (type_identifier) @name.definition.class
  body: (field_declaration_list)) @definition.class

(union_specifier
  name: (type_identifier) @name.definition.class
  body: (field_declaration_list)) @definition.class

(enum_specifier
  name: (type_identifier) @name.definition.enum
  body: (enumerator_list)) @definition.enum

(type_definition
  declarator: (type_identifier) @name.definition.type) @definition.type

(preproc_def
  name: (identifier) @name.definition.constant) @definition.constant

(preproc_function_def
  name: (identifier) @name.definition.function) @definition.function

(enumerator
  name: (identifier) @name.definition.constant) @definition.constant

(call_expression
  function: [
    (identifier) @name.reference.call
    (field_expression
      field: (field_identifier) @name.reference.call)
  ])

(field_expression
  field: (field_identifier) @name.reference.attribute)

(type_identifier) @name.reference.type

(identifier) @name.reference.identifier
