; swc repo map: C++ definitions and references.

(class_specifier
  name: (type_identifier) @name.definition.class
  body: (field_declaration_list)) @definition.class

(struct_specifier
  name: (type_identifier) @name.definition.class
  body: (field_declaration_list)) @definition.class

(union_specifier
  name: (type_identifier) @name.definition.class
  body: (field_declaration_list)) @definition.class

(enum_specifier
  name: (type_identifier) @name.definition.enum
  body: (enumerator_list)) @definition.enum

(namespace_definition
  name: (namespace_identifier) @name.definition.module) @definition.module

(alias_declaration
  name: (type_identifier) @name.definition.type) @definition.type

(type_definition
  declarator: (type_identifier) @name.definition.type) @definition.type

(field_declaration_list
  (function_definition
    declarator: (function_declarator
      declarator: [(field_identifier) (identifier) (destructor_name) (operator_name)]
        @name.definition.method)) @definition.method)

(field_declaration_list
  (field_declaration
    declarator: (function_declarator
      declarator: [(field_identifier) (destructor_name) (operator_name)]
        @name.definition.method)) @definition.method)

(function_definition
  declarator: (function_declarator
    declarator: (identifier) @name.definition.function)) @definition.function

; Out-of-class member definitions: Polygon::area() { ... }
(function_definition
  declarator: (function_declarator
    declarator: (qualified_identifier
      name: [(identifier) (destructor_name) (operator_name)] @name.definition.method))) @definition.method

(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator
      declarator: (identifier) @name.definition.function))) @definition.function

(function_definition
  declarator: (reference_declarator
    (function_declarator
      declarator: (identifier) @name.definition.function))) @definition.function

(preproc_def
  name: (identifier) @name.definition.constant) @definition.constant

(preproc_function_def
  name: (identifier) @name.definition.function) @definition.function

(call_expression
  function: [
    (identifier) @name.reference.call
    (field_expression
      field: (field_identifier) @name.reference.call)
    (qualified_identifier
      name: (identifier) @name.reference.call)
  ])

(field_expression
  field: (field_identifier) @name.reference.attribute)

(type_identifier) @name.reference.type

(identifier) @name.reference.identifier
