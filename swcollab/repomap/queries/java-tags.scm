; swc repo map: Java definitions and references.

(class_declaration
  name: (identifier) @name.definition.class) @definition.class

(record_declaration
  name: (identifier) @name.definition.class) @definition.class

(interface_declaration
  name: (identifier) @name.definition.interface) @definition.interface

(annotation_type_declaration
  name: (identifier) @name.definition.interface) @definition.interface

(enum_declaration
  name: (identifier) @name.definition.enum) @definition.enum

(method_declaration
  name: (identifier) @name.definition.method) @definition.method

(constructor_declaration
  name: (identifier) @name.definition.method) @definition.method

; static final fields are the constants of Java.
((field_declaration
  (modifiers) @_modifiers
  declarator: (variable_declarator
    name: (identifier) @name.definition.constant)) @definition.constant
  (#match? @_modifiers "static")
  (#match? @_modifiers "final"))

(method_invocation
  name: (identifier) @name.reference.call)

(object_creation_expression
  type: (type_identifier) @name.reference.class)

(field_access
  field: (identifier) @name.reference.attribute)

(type_identifier) @name.reference.type

(identifier) @name.reference.identifier
