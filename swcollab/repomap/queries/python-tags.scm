; swc repo map: Python definitions and references.
; Capture names: @name.definition.<kind> is the defined name, @definition.<kind> the whole
; definition; @name.reference.<kind> is a used name.

(class_definition
  name: (identifier) @name.definition.class) @definition.class

(class_definition
  body: (block
    (function_definition
      name: (identifier) @name.definition.method) @definition.method))

(class_definition
  body: (block
    (decorated_definition
      definition: (function_definition
        name: (identifier) @name.definition.method) @definition.method)))

(function_definition
  name: (identifier) @name.definition.function) @definition.function

; Module-level names: UPPER_CASE ones are constants, the others variables.
(module
  (assignment
    left: (identifier) @name.definition.constant) @definition.constant
  (#match? @name.definition.constant "^_*[A-Z][A-Z0-9_]*$"))

(module
  (assignment
    left: (identifier) @name.definition.variable) @definition.variable)

(call
  function: [
    (identifier) @name.reference.call
    (attribute
      attribute: (identifier) @name.reference.call)
  ])

(attribute
  attribute: (identifier) @name.reference.attribute)

(identifier) @name.reference.identifier
